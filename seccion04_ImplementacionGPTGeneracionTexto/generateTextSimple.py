"""Generación de texto voraz (greedy): en cada paso se elige el token más probable.

Se explica en: seccion04_ImplementacionGPTGeneracionTexto/1_implementacion_gpt.ipynb
"""

import torch

from seccion04_ImplementacionGPTGeneracionTexto.checkGenerationArgs import check_generation_args


def generate_text_simple(model, idx, max_new_tokens: int, context_size: int | None):
    """Añade `max_new_tokens` tokens a `idx` (b, n) y devuelve (b, n + max_new_tokens).

    En cada paso solo se pasan al modelo los últimos `context_size` tokens (None = su context_length). Un
    argumento imposible (idx sin dimensión de lote, context_size fuera de 1..context_length, max_new_tokens
    negativo) da un ValueError en español.
    """
    # Comprueba los argumentos (errores en español) y toma la ventana: context_size, o context_length si es None
    context_size = check_generation_args(model, idx, max_new_tokens, context_size)
    for _ in range(max_new_tokens):
        # Recorta el contexto a los últimos context_size tokens
        idx_cond = idx[:, -context_size:]

        with torch.no_grad():
            logits = model(idx_cond)  # (b, num_tokens, vocab_size)

        # Solo interesa el último paso: (b, num_tokens, vocab_size) -> (b, vocab_size)
        logits = logits[:, -1, :]
        probas = torch.softmax(logits, dim=-1)  # (b, vocab_size)
        idx_next = torch.argmax(probas, dim=-1, keepdim=True)  # (b, 1)

        # Añade el token elegido a la secuencia: (b, num_tokens + 1)
        idx = torch.cat((idx, idx_next), dim=1)

    return idx
