"""Guardar y cargar los pesos de un GPTModel, solos o con el optimizador, de forma segura y atómica.

- Atómico: se escribe en un archivo temporal de la misma carpeta y solo al final se renombra (`os.replace`),
  así que un guardado que falla a medias nunca estropea el último archivo bueno.
- Seguro: se carga con `torch.load(..., weights_only=True)`, que solo reconstruye tensores y tipos básicos y
  se niega a ejecutar el código que pudiera esconder un pickle.

Se explica en: seccion05/4_guardar_y_cargar_pesos.ipynb
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

import torch

# Claves de la configuración que fijan la forma de los pesos (drop_rate no cambia ninguna forma)
CLAVES_DE_FORMA = ("vocab_size", "context_length", "emb_dim", "n_heads", "n_layers", "qkv_bias")


def atomic_save(obj, path: str | os.PathLike) -> Path:
    """Guarda `obj` con `torch.save` en `path` de forma atómica y devuelve la ruta.

    Escribe primero un temporal oculto en la misma carpeta, lo fuerza a disco (`fsync`) y lo renombra sobre
    `path`. Si algo falla, `path` queda como estaba y el temporal se borra.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())  # que los bytes estén en el disco antes de renombrar
        os.replace(tmp, path)  # el renombrado es atómico: se ve el archivo viejo o el nuevo, nunca uno a medias
    finally:
        tmp.unlink(missing_ok=True)  # tras un os.replace correcto ya no existe
    return path


def model_config(model) -> dict:
    """Configuración (el diccionario de GPT_CONFIG_124M) de un GPTModel ya construido, leída de sus capas."""
    bloque = model.trf_blocks[0]
    return {
        "vocab_size": model.tok_emb.num_embeddings,
        "context_length": model.pos_emb.num_embeddings,
        "emb_dim": model.tok_emb.embedding_dim,
        "n_heads": bloque.att.num_heads,
        "n_layers": len(model.trf_blocks),
        "drop_rate": bloque.att.dropout.p,
        "qkv_bias": bloque.att.W_query.bias is not None,
    }


def save_checkpoint(path: str | os.PathLike, model, optimizer=None, config: dict | None = None,
                    save_rng_state: bool = False, **extra) -> Path:
    """Guarda un punto de control con `model_state_dict`, `config` y, si se dan, `optimizer_state_dict`.

    - `config`: la configuración del modelo; si no se da, se lee del propio modelo (`model_config`).
    - `save_rng_state=True`: guarda también el estado del generador aleatorio de PyTorch (`rng_state`), para que
      un entrenamiento reanudado use los mismos números aleatorios (dropout, barajado) que si no se hubiera parado.
    - `extra`: más datos que guardar (por ejemplo `epoch=3`); deben ser tensores o tipos básicos de Python.
    """
    checkpoint = {
        "model_state_dict": model.state_dict(),
        "config": dict(config) if config is not None else model_config(model),
    }
    if optimizer is not None:
        checkpoint["optimizer_state_dict"] = optimizer.state_dict()
    if save_rng_state:
        checkpoint["rng_state"] = torch.get_rng_state()
        if torch.cuda.is_available():
            checkpoint["cuda_rng_state"] = torch.cuda.get_rng_state_all()
    checkpoint.update(extra)
    return atomic_save(checkpoint, path)


def check_state_dict_fits(state_dict: dict, model, config: dict | None = None) -> None:
    """Lanza un ValueError en español si los pesos de `state_dict` no caben en `model`.

    Si se da `config` (la del punto de control), primero compara sus tamaños con los del modelo y nombra los que
    no coinciden; después compara tensor a tensor nombres y formas.
    """
    if config is not None:
        del_modelo = model_config(model)
        distintos = [k for k in CLAVES_DE_FORMA if k in config and config[k] != del_modelo[k]]
        if distintos:
            detalle = ", ".join(f"{k}={config[k]} (tu modelo: {del_modelo[k]})" for k in distintos)
            raise ValueError(
                f"El punto de control es de un modelo con otra configuración: {detalle}. "
                "Crea el modelo con la configuración guardada, GPTModel(checkpoint['config']), y vuelve a cargarlo."
            )
    esperado = model.state_dict()
    formas = [
        f"{nombre}: punto de control {tuple(t.shape)}, modelo {tuple(esperado[nombre].shape)}"
        for nombre, t in state_dict.items()
        if nombre in esperado and t.shape != esperado[nombre].shape
    ]
    faltan = [nombre for nombre in esperado if nombre not in state_dict]
    sobran = [nombre for nombre in state_dict if nombre not in esperado]
    if formas or faltan or sobran:
        partes = []
        if formas:
            resto = f" y {len(formas) - 3} más" if len(formas) > 3 else ""
            partes.append("formas distintas en " + "; ".join(formas[:3]) + resto)
        if faltan:
            partes.append(f"faltan {len(faltan)} tensores (el primero, {faltan[0]})")
        if sobran:
            partes.append(f"sobran {len(sobran)} tensores (el primero, {sobran[0]})")
        raise ValueError(
            "Los pesos no corresponden a este modelo: " + "; ".join(partes) + ". "
            "Crea el modelo con la misma configuración con la que se guardaron."
        )


def load_checkpoint(path: str | os.PathLike, model, optimizer=None, device=None,
                    restore_rng_state: bool = False) -> dict:
    """Carga en `model` (y en `optimizer`, si se da) un punto de control o un `state_dict` guardado con torch.save.

    Usa `torch.load(..., weights_only=True)`. Comprueba antes que los tamaños encajan (error en español que nombra
    los que no). Con `restore_rng_state=True` restaura el estado aleatorio guardado por `save_checkpoint`.
    No cambia el modo del modelo: llama tú a `model.eval()` para generar o a `model.train()` para seguir entrenando.
    Devuelve el diccionario cargado.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No existe el punto de control {path}. Comprueba la ruta o guárdalo primero.")
    if device is None:
        device = next(model.parameters()).device  # carga los tensores directamente donde está el modelo
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path} contiene objetos de Python que no son pesos, y un pickle así puede ejecutar código al "
            "cargarse. No lo abras con weights_only=False salvo que sepas exactamente de dónde viene."
        ) from exc

    if isinstance(checkpoint, dict) and "model_state_dict" in checkpoint:
        state_dict, config = checkpoint["model_state_dict"], checkpoint.get("config")
    else:  # un state_dict a secas: torch.save(model.state_dict(), ruta)
        state_dict, config = checkpoint, None
        checkpoint = {"model_state_dict": state_dict}
    check_state_dict_fits(state_dict, model, config)
    model.load_state_dict(state_dict)

    if optimizer is not None:
        if "optimizer_state_dict" not in checkpoint:
            raise ValueError(
                f"{path} no guarda el estado del optimizador; guárdalo con save_checkpoint(..., optimizer=optimizer)."
            )
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])

    if restore_rng_state:
        if "rng_state" not in checkpoint:
            raise ValueError(
                f"{path} no guarda el estado aleatorio; guárdalo con save_checkpoint(..., save_rng_state=True)."
            )
        torch.set_rng_state(checkpoint["rng_state"].cpu())
        if "cuda_rng_state" in checkpoint and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in checkpoint["cuda_rng_state"]])
    return checkpoint
