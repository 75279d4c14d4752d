"""El curso como sitio web: configuración de Sphinx (conf.py), índice (indice.py) y la orden que lo construye."""
