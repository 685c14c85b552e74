"""What every app uses and that knows no app: environment parsing, API base
classes, text rules, tokens, middleware, health checks, logging."""
