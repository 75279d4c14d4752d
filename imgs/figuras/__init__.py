"""Figuras originales del curso, una función por figura, agrupadas en un módulo por sección.

Cada módulo `seccionXX*.py` define `FIGURAS`: una lista de funciones `figura(destino: Path) -> Path`
que dibujan una figura y la guardan en la carpeta `destino`. El script `imgs/generar_figuras.py`
las ejecuta todas.
"""
