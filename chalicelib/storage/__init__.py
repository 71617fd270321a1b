"""Storage: one DynamoDB table, pynamodb models and the access patterns as functions.

Nothing above this package builds a key by hand: `keys` owns the layout, documented in
docs/data-model.md.
"""
