"""Governance: lifecycle and review, lineage and impact, duplicates, batches, change feed, webhooks."""
