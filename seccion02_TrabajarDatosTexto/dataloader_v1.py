"""Conjunto de datos con ventana deslizante y cargador de datos para entrenar un GPT.

Se explica en: seccion02_TrabajarDatosTexto/2_cargador_datos_embeddings.ipynb
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

from seccion02_TrabajarDatosTexto.checkArgs import check_int
from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer


class GPTDatasetV1(Dataset):
    """Pares (entrada, objetivo) obtenidos con una ventana deslizante sobre los ids de los tokens.

    Cada ventana tiene `max_length` tokens y empieza `stride` tokens después de la anterior; el
    objetivo es la misma ventana desplazada una posición a la derecha (el token siguiente).
    Cada elemento es `(input_ids, target_ids)`, dos tensores de forma (max_length,).
    """

    def __init__(self, txt: str, tokenizer, max_length: int, stride: int):
        if not isinstance(txt, str):
            raise ValueError(f"txt debe ser una cadena de texto (str); has pasado un objeto de tipo {type(txt).__name__}.")
        max_length = check_int("max_length", max_length, minimum=1)  # un entero >= 1 (ni 2.0 ni True)
        stride = check_int("stride", stride, minimum=1)

        self.input_ids = []
        self.target_ids = []

        # Tokeniza todo el texto
        token_ids = tokenizer.encode(txt, allowed_special={"<|endoftext|>"})
        if len(token_ids) < max_length + 1:
            raise ValueError(
                f"El texto tiene {len(token_ids)} tokens; se necesitan al menos {max_length + 1} para una "
                f"ventana de max_length={max_length} (la entrada más el token objetivo). "
                "Usa un texto más largo o un max_length menor."
            )

        # Recorre el texto con una ventana deslizante de max_length tokens
        for i in range(0, len(token_ids) - max_length, stride):
            input_chunk = token_ids[i : i + max_length]
            target_chunk = token_ids[i + 1 : i + max_length + 1]
            self.input_ids.append(torch.tensor(input_chunk))
            self.target_ids.append(torch.tensor(target_chunk))

    def __len__(self):
        return len(self.input_ids)

    def __getitem__(self, idx):
        return self.input_ids[idx], self.target_ids[idx]


def create_dataloader_v1(
    txt: str,
    batch_size: int = 4,
    max_length: int = 256,
    stride: int = 128,
    shuffle: bool = True,
    drop_last: bool = True,
    num_workers: int = 0,
) -> DataLoader:
    """Crea un `DataLoader` de `GPTDatasetV1` con el tokenizador BPE de GPT-2.

    Cada lote es `(entradas, objetivos)`, dos tensores de forma (batch_size, max_length).
    Con la misma semilla (`torch.manual_seed`) produce los mismos lotes que el código de referencia del libro.
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    tokenizer = get_tokenizer()
    dataset = GPTDatasetV1(txt, tokenizer, max_length, stride)
    if drop_last and len(dataset) < batch_size:
        raise ValueError(
            f"El texto da {len(dataset)} ventana(s) de {max_length} tokens, menos que batch_size={batch_size}, "
            "y con drop_last=True el cargador quedaría vacío. Usa un texto más largo, un batch_size menor "
            "o drop_last=False."
        )
    dataloader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        num_workers=num_workers,
    )
    return dataloader
