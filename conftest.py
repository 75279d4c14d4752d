"""Configuración de pytest para todo el curso.

- La raíz del repositorio está en sys.path (pytest la añade al cargar este archivo), así que las
  pruebas importan los módulos igual que los cuadernos: `from seccion05.calcLoss import ...`.
- Las salidas de los cuadernos se comparan con tolerancia numérica (tests/toleranciaNumerica.py).
"""

pytest_plugins = ["tests.pluginNbval"]
