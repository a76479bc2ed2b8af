"""Qt-free core of the application (checked by import-linter)."""
