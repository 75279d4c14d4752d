"""Sección 3: los mecanismos de atención (autoatención, atención causal y atención multicabeza)."""
