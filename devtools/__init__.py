"""Developer tooling (not deployed): DynamoDB Local, the dev server, tokens."""
