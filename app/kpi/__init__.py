"""KPIs: targets, achievement and status, weighted scorecards, governance checks and reviews."""
