"""Conversión texto ↔ ids de tokens y pérdida de entropía cruzada de un lote y de un cargador de datos.

Se explica en: seccion05/1_evaluando_modelos_texto.ipynb
"""

import torch

from seccion02_TrabajarDatosTexto.checkArgs import check_int


def text_to_token_ids(text, tokenizer):
    """Texto -> tensor de ids torch.long de forma (1, num_tokens): la primera dimensión es el lote."""
    encoded = tokenizer.encode(text, allowed_special={"<|endoftext|>"})
    encoded_tensor = torch.tensor(encoded, dtype=torch.long).unsqueeze(0)  # añade la dimensión del lote
    return encoded_tensor


def token_ids_to_text(token_ids, tokenizer):
    """Tensor de ids de forma (1, num_tokens) o (num_tokens,) -> texto."""
    if token_ids.dim() not in (1, 2) or token_ids.dim() == 2 and token_ids.shape[0] != 1:
        raise ValueError(
            f"token_ids debe tener forma (num_tokens,) o (1, num_tokens); has pasado un tensor de forma "
            f"{tuple(token_ids.shape)}. Para un lote de varios textos, decodifica cada fila: "
            "[token_ids_to_text(fila, tokenizer) for fila in token_ids]."
        )
    flat = token_ids.squeeze(0) if token_ids.dim() == 2 else token_ids  # quita la dimensión del lote: (num_tokens,)
    return tokenizer.decode(flat.tolist())


def calc_loss_batch(input_batch, target_batch, model, device):
    """Entropía cruzada media de un lote: entradas y objetivos de forma (b, num_tokens)."""
    if input_batch.dim() != 2 or input_batch.shape != target_batch.shape:
        raise ValueError(
            f"input_batch y target_batch deben tener la misma forma (lote, num_tokens); has pasado input_batch de "
            f"forma {tuple(input_batch.shape)} y target_batch de forma {tuple(target_batch.shape)}. "
            "target_batch[i, j] es el token que sigue a input_batch[i, j]."
        )
    input_batch, target_batch = input_batch.to(device), target_batch.to(device)
    logits = model(input_batch)  # (b, num_tokens, vocab_size)
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), target_batch.flatten())
    return loss


def calc_loss_loader(data_loader, model, device, num_batches=None):
    """Pérdida media de los primeros `num_batches` lotes de `data_loader` (todos si es None).

    Devuelve un float: la media sobre los lotes que de verdad se han usado; `nan` si no hay ninguno.
    """
    num_batches = check_int("num_batches", num_batches, minimum=1, allow_none=True)
    total_loss = 0.0
    if len(data_loader) == 0:
        return float("nan")
    elif num_batches is None:
        num_batches = len(data_loader)  # todos los lotes
    else:
        # no se pueden usar más lotes de los que tiene el cargador
        num_batches = min(num_batches, len(data_loader))

    used_batches = 0  # lotes usados de verdad (un iterable puede dar menos de los que dice su len)
    for i, (input_batch, target_batch) in enumerate(data_loader):
        if i < num_batches:
            loss = calc_loss_batch(input_batch, target_batch, model, device)
            total_loss += loss.item()  # suma la pérdida de cada lote
            used_batches += 1
        else:
            break
    if used_batches == 0:
        return float("nan")
    return total_loss / used_batches  # media sobre los lotes usados
