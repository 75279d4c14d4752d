"""Sección 5: preentrenamiento con datos sin etiquetar (evaluar, entrenar, decodificar, guardar y cargar pesos)."""
