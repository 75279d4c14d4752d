"""Sección 2: trabajar con datos de texto (tokenización, BPE y cargadores de datos)."""
