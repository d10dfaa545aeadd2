"""Pure compiler: definitions + request -> SQL AST -> dialect SQL with bound parameters; no I/O.

Entry points: `plan.compile_query`, `validate.validate_dataset` / `validate.validate_metric`,
`metrics.metric_closure` / `metrics.dataset_closure` (what a caller must load first).
"""
