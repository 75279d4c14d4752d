"""Conversión texto ↔ ids de tokens y pérdida de entropía cruzada de un lote y de un cargador de datos.

Se explica en: seccion05/1_evaluando_modelos_texto.ipynb
"""

import torch


def text_to_token_ids(text, tokenizer):
    """Texto -> tensor de ids de forma (1, num_tokens): la primera dimensión es el lote."""
    encoded = tokenizer.encode(text, allowed_special={"<|endoftext|>"})
    encoded_tensor = torch.tensor(encoded).unsqueeze(0)  # añade la dimensión del lote
    return encoded_tensor


def token_ids_to_text(token_ids, tokenizer):
    """Tensor de ids de forma (1, num_tokens) o (num_tokens,) -> texto."""
    flat = token_ids.squeeze(0)  # quita la dimensión del lote
    return tokenizer.decode(flat.tolist())


def calc_loss_batch(input_batch, target_batch, model, device):
    """Entropía cruzada media de un lote: entradas y objetivos de forma (b, num_tokens)."""
    input_batch, target_batch = input_batch.to(device), target_batch.to(device)
    logits = model(input_batch)  # (b, num_tokens, vocab_size)
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), target_batch.flatten())
    return loss


def calc_loss_loader(data_loader, model, device, num_batches=None):
    """Pérdida media de los primeros `num_batches` lotes de `data_loader` (todos si es None).

    Devuelve un float; `nan` si el cargador está vacío.
    """
    total_loss = 0.0
    if len(data_loader) == 0:
        return float("nan")
    elif num_batches is None:
        num_batches = len(data_loader)  # todos los lotes
    elif num_batches < 1:
        raise ValueError(f"num_batches debe ser al menos 1 (o None para usar todos los lotes); has pasado {num_batches}.")
    else:
        # no se pueden usar más lotes de los que tiene el cargador
        num_batches = min(num_batches, len(data_loader))

    for i, (input_batch, target_batch) in enumerate(data_loader):
        if i < num_batches:
            loss = calc_loss_batch(input_batch, target_batch, model, device)
            total_loss += loss.item()  # suma la pérdida de cada lote
        else:
            break
    return total_loss / num_batches  # media sobre los lotes usados
