"""The application layer: what each command does (export, train, verify, predict, inspect),
built on readers/, writers/, sheet/ and the trainer's math. The CLI is a thin layer above it."""
