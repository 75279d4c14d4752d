"""Generación de texto con temperatura y top-k (y parada en un token de fin).

Se explica en: seccion05/3_estrategias_decodificacion.ipynb
"""

import torch

from seccion04_ImplementacionGPTGeneracionTexto.checkGenerationArgs import check_generation_args


def generate(model, idx, max_new_tokens: int, context_size: int | None, temperature: float = 0.0, top_k: int | None = None,
             eos_id: int | None = None):
    """Añade hasta `max_new_tokens` tokens a `idx` (b, n) y devuelve (b, n + tokens generados).

    - `temperature=0.0`: decodificación voraz (el token más probable, como generate_text_simple).
    - `temperature > 0`: muestrea de softmax(logits / temperature); más de 1 aplana la distribución, menos de 1
      la afila.
    - `top_k`: antes de muestrear, descarta (logit = -inf) todos los tokens salvo los `top_k` más probables.
    - `eos_id`: id del token de fin. Con un solo texto (b = 1), la generación se detiene en cuanto sale `eos_id`,
      que no se añade. En un lote, cada secuencia que genera `eos_id` queda terminada y desde entonces solo añade
      `eos_id` como relleno; la generación se detiene cuando han terminado todas.
    - `context_size`: la ventana de tokens que ve el modelo en cada paso (None = su context_length).

    Los argumentos imposibles dan un ValueError en español (ver `check_generation_args`): temperature debe ser 0 o
    estar entre 0.01 y 1000, top_k entre 1 y vocab_size, eos_id dentro del vocabulario e idx de forma (b, n).
    """
    # Comprueba los argumentos (errores en español) y toma la ventana: context_size, o context_length si es None
    context_size = check_generation_args(model, idx, max_new_tokens, context_size, temperature, top_k, eos_id)

    finished = torch.zeros(idx.shape[0], 1, dtype=torch.bool, device=idx.device)  # (b, 1)
    for _ in range(max_new_tokens):
        idx_cond = idx[:, -context_size:]
        with torch.no_grad():
            logits = model(idx_cond)  # (b, num_tokens, vocab_size)
        logits = logits[:, -1, :]  # solo el último paso: (b, vocab_size)

        # Filtro top-k: todo lo que queda por debajo del k-ésimo logit pasa a -inf (probabilidad 0)
        if top_k is not None:
            top_logits, _ = torch.topk(logits, top_k)  # (b, top_k), de mayor a menor
            min_val = top_logits[:, -1:]  # el k-ésimo logit de cada fila: (b, 1)
            logits = logits.masked_fill(logits < min_val, float("-inf"))

        if temperature > 0.0:
            # Escalado por temperatura y muestreo de la distribución resultante
            logits = logits / temperature
            probs = torch.softmax(logits, dim=-1)  # (b, vocab_size)
            idx_next = torch.multinomial(probs, num_samples=1)  # (b, 1)
        else:
            # Decodificación voraz
            idx_next = torch.argmax(logits, dim=-1, keepdim=True)  # (b, 1)

        if eos_id is not None:
            finished = finished | (idx_next == eos_id)
            if finished.all():  # todas las secuencias han llegado al token de fin
                break
            idx_next = idx_next.masked_fill(finished, eos_id)  # las terminadas solo añaden relleno

        idx = torch.cat((idx, idx_next), dim=1)  # (b, num_tokens + 1)

    return idx
