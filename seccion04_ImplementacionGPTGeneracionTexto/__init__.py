"""Sección 4: implementar un modelo GPT (124M) y generar texto."""
