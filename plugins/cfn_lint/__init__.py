"""cfn-lint rules for winportlint checks (being written)."""
