"""Guardar y cargar los pesos de un GPTModel, solos o con el optimizador, de forma segura y atómica.

- Atómico: `atomic_save` escribe con `atomic_write` (seccion02_TrabajarDatosTexto/atomicWrite.py): un temporal de
  la misma carpeta que solo al final se renombra (`os.replace`), así que un guardado que falla a medias nunca
  estropea el último archivo bueno.
- Seguro: `load_torch_file` es el único sitio que llama a `torch.load`, siempre con `weights_only=True` (solo
  reconstruye tensores y tipos básicos y se niega a ejecutar el código que pudiera esconder un pickle). Antes
  comprueba el archivo, así que uno vacío, cortado, dañado o ajeno da un error en español que dice qué hacer.
- Todo o nada: `load_checkpoint` comprueba el modelo, el optimizador y el estado aleatorio antes de cargar nada.

No guarda ni carga los pesos de GPT-2 de OpenAI (eso es loadWeightsGPT2.py, en formato safetensors).

Se explica en: seccion05/4_guardar_y_cargar_pesos.ipynb
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch

from seccion02_TrabajarDatosTexto.atomicWrite import atomic_write, remove_stale_temporaries
from seccion05.modelConfig import model_config

__all__ = ["SHAPE_KEYS", "atomic_save", "check_state_dict_fits", "load_checkpoint", "load_torch_file", "model_config",
           "save_checkpoint"]

# Claves de la configuración que fijan la forma de los pesos (drop_rate no cambia ninguna forma)
SHAPE_KEYS = ("vocab_size", "context_length", "emb_dim", "n_heads", "n_layers", "qkv_bias")
CLAVES_DE_FORMA = SHAPE_KEYS  # el nombre de antes, por si ya lo importabas

# Cómo empieza un archivo de torch.save: el formato zip (desde PyTorch 1.6) o el antiguo, un pickle del número mágico
_INICIO_ZIP = b"PK\x03\x04"
_INICIO_ANTIGUO = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)


def atomic_save(obj, path: str | os.PathLike) -> Path:
    """Guarda `obj` con `torch.save` en `path` de forma atómica y devuelve la ruta.

    Si algo falla a medias, `path` queda como estaba (ver `atomic_write`).
    """
    with atomic_write(path) as f:
        torch.save(obj, f)
    return Path(path)


def load_torch_file(path: str | os.PathLike, map_location=None, mmap: bool = False):
    """Carga un archivo de `torch.save` con `weights_only=True` y devuelve lo que contenga.

    Antes de llamar a `torch.load` comprueba el archivo: que exista, que no esté vacío, que sea de torch.save y, si
    es un zip (el formato de hoy), que esté entero y que sus datos coincidan con sus sumas CRC-32 (torch.load no
    las comprueba: un archivo dañado por dentro se cargaría con otros números). Eso obliga a leer el archivo
    una vez entero, también con `mmap=True`. Cualquier problema es un ValueError en español que nombra el archivo
    (FileNotFoundError si no existe). También borra los temporales huérfanos de un guardado que murió a medias.
    """
    path = Path(path)
    remove_stale_temporaries(path)
    _comprobar_archivo_torch(path, mmap)
    try:
        return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as exc:
        raise ValueError(
            f"{path} contiene objetos de Python que no son pesos, y un pickle así puede ejecutar código al "
            "cargarse. No lo abras con weights_only=False salvo que sepas exactamente de dónde viene."
        ) from exc
    except Exception as exc:  # lo que se escape a las comprobaciones (un archivo antiguo cortado, por ejemplo)
        raise ValueError(
            f"No se pudo leer {path}: está dañado o no es un archivo guardado con torch.save. Bórralo y vuelve a "
            "guardarlo (o a copiarlo)."
        ) from exc


def _comprobar_archivo_torch(path: Path, mmap: bool) -> None:
    """Lanza un error en español si `path` no es un archivo de torch.save íntegro (ver load_torch_file)."""
    if not path.exists():
        raise FileNotFoundError(f"No existe el archivo {path}. Comprueba la ruta.")
    if path.is_dir():
        raise ValueError(f"{path} es una carpeta, no un archivo guardado con torch.save. Comprueba la ruta.")
    with open(path, "rb") as f:
        inicio = f.read(len(_INICIO_ANTIGUO))
    if not inicio:
        raise ValueError(
            f"{path} está vacío (0 bytes): no tiene nada que cargar. Puede que un guardado o una copia se cortaran "
            "antes de escribir nada; bórralo y vuelve a guardarlo (o a copiarlo)."
        )
    if inicio.startswith(_INICIO_ZIP):
        _comprobar_zip(path)
    elif inicio == _INICIO_ANTIGUO:
        if mmap:
            raise ValueError(
                f"{path} está guardado con el formato antiguo de torch.save (anterior a PyTorch 1.6), que no se "
                "puede abrir con mmap=True. Cárgalo con mmap=False o vuelve a guardarlo con el torch.save de hoy."
            )
    else:
        raise ValueError(
            f"{path} no es un archivo guardado con torch.save (empieza por {inicio[:8]!r}). Comprueba que es el "
            "archivo que querías cargar."
        )


def _comprobar_zip(path: Path) -> None:
    """Comprueba que el zip de `path` está entero, es de torch.save y sus datos coinciden con sus CRC-32."""
    try:
        with zipfile.ZipFile(path) as z:
            de_torch = any(nombre.endswith("/data.pkl") for nombre in z.namelist())
            danado = z.testzip() if de_torch else None  # la primera parte cuyo CRC-32 no coincide (o None)
    except Exception as exc:  # BadZipFile y lo que lance zipfile ante unas cabeceras cortadas o cambiadas
        raise ValueError(
            f"{path} está incompleto o dañado: empieza como un archivo de torch.save, pero no se puede leer entero "
            "(¿se cortó el guardado o la copia?). Bórralo y vuelve a guardarlo (o a copiarlo)."
        ) from exc
    if not de_torch:
        raise ValueError(
            f"{path} es un archivo zip, pero no uno guardado con torch.save (no tiene data.pkl). Comprueba que es "
            "el archivo que querías cargar."
        )
    if danado is not None:
        raise ValueError(
            f"{path} está dañado: los datos de {danado} no coinciden con su suma de comprobación (CRC-32). Bórralo "
            "y vuelve a guardarlo (o a copiarlo)."
        )


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
        distintos = [k for k in SHAPE_KEYS if k in config and config[k] != del_modelo[k]]
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

    Todo o nada: antes de cambiar nada comprueba que el archivo es válido (`load_torch_file`), que los pesos caben
    en el modelo (error en español que nombra los tamaños que no), que el estado del optimizador encaja con
    `optimizer` (mismos grupos y parámetros, y cada `exp_avg` con la forma de su parámetro) y, con
    `restore_rng_state=True`, que está el estado aleatorio guardado por `save_checkpoint`. Si algo no cuadra, lanza
    un ValueError y el modelo, el optimizador y el generador aleatorio quedan como estaban.
    No cambia el modo del modelo: llama tú a `model.eval()` para generar o a `model.train()` para seguir entrenando.
    Devuelve el diccionario cargado.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No existe el punto de control {path}. Comprueba la ruta o guárdalo primero.")
    if device is None:
        device = next(model.parameters()).device  # carga los tensores directamente donde está el modelo
    checkpoint = load_torch_file(path, map_location=device)

    if isinstance(checkpoint, dict) and "model_state_dict" in checkpoint:
        state_dict, config = checkpoint["model_state_dict"], checkpoint.get("config")
    else:  # un state_dict a secas: torch.save(model.state_dict(), ruta)
        state_dict, config = checkpoint, None
        checkpoint = {"model_state_dict": state_dict}
    if not _es_dict_de_tensores(state_dict):
        raise ValueError(
            f"{path} no es un punto de control del curso: se esperaba un diccionario con 'model_state_dict' (el de "
            "save_checkpoint) o un state_dict (el de torch.save(model.state_dict(), ruta)), y contiene "
            f"{_que_es(state_dict)}."
        )

    # 1. Comprobar todo lo que se va a cargar, sin tocar nada
    check_state_dict_fits(state_dict, model, config)
    if optimizer is not None:
        if "optimizer_state_dict" not in checkpoint:
            raise ValueError(
                f"{path} no guarda el estado del optimizador; guárdalo con save_checkpoint(..., optimizer=optimizer)."
            )
        _comprobar_estado_del_optimizador(checkpoint["optimizer_state_dict"], optimizer, model, path)
    if restore_rng_state:
        if "rng_state" not in checkpoint:
            raise ValueError(
                f"{path} no guarda el estado aleatorio; guárdalo con save_checkpoint(..., save_rng_state=True)."
            )
        rng_state = checkpoint["rng_state"]
        if not (isinstance(rng_state, torch.Tensor) and rng_state.dtype == torch.uint8
                and rng_state.shape == torch.get_rng_state().shape):
            raise ValueError(
                f"{path}: el estado aleatorio guardado en él no es válido (debería ser el tensor de "
                "torch.get_rng_state()). Guárdalo de nuevo con save_checkpoint(..., save_rng_state=True)."
            )

    # 2. Cargar (ya no puede fallar por el contenido del archivo)
    if optimizer is not None:
        optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    model.load_state_dict(state_dict)
    if restore_rng_state:
        torch.set_rng_state(checkpoint["rng_state"].cpu())
        if "cuda_rng_state" in checkpoint and torch.cuda.is_available():
            torch.cuda.set_rng_state_all([s.cpu() for s in checkpoint["cuda_rng_state"]])
    return checkpoint


def _es_dict_de_tensores(obj) -> bool:
    return isinstance(obj, dict) and len(obj) > 0 and all(isinstance(v, torch.Tensor) for v in obj.values())


def _que_es(obj) -> str:
    """Descripción breve de lo que se ha encontrado en lugar de un state_dict (para los mensajes de error)."""
    if isinstance(obj, dict):
        return "un diccionario cuyos valores no son todos tensores" if obj else "un diccionario vacío"
    return f"un objeto de tipo {type(obj).__name__}"


# Estados de los optimizadores de torch.optim que tienen la forma de su parámetro (AdamW: exp_avg y exp_avg_sq)
_ESTADOS_CON_FORMA_DEL_PARAMETRO = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer", "square_avg", "sum")


def _comprobar_estado_del_optimizador(estado: dict, optimizer, model, path: Path) -> None:
    """Lanza un ValueError en español si el estado guardado `estado` no encaja con `optimizer`."""
    if not (isinstance(estado, dict) and isinstance(estado.get("state"), dict)
            and isinstance(estado.get("param_groups"), list)):
        raise ValueError(f"{path}: 'optimizer_state_dict' no es el estado de un optimizador (optimizer.state_dict()).")
    que_hacer = "Crea el optimizador igual que cuando se guardó (con los mismos grupos y parámetros)."
    guardados, actuales = estado["param_groups"], optimizer.param_groups
    if len(guardados) != len(actuales):
        grupos = "grupo" if len(guardados) == 1 else "grupos"
        raise ValueError(
            f"El estado del optimizador guardado en {path} tiene {len(guardados)} {grupos} de parámetros y tu "
            f"optimizador {len(actuales)}. {que_hacer}"
        )
    parametro_de = {}  # índice guardado -> parámetro de tu optimizador (el mismo emparejamiento que load_state_dict)
    for i, (guardado, actual) in enumerate(zip(guardados, actuales, strict=True)):
        if len(guardado["params"]) != len(actual["params"]):
            raise ValueError(
                f"El estado del optimizador guardado en {path} no encaja: el grupo {i} tiene {len(guardado['params'])} "
                f"parámetros guardados y {len(actual['params'])} en tu optimizador. {que_hacer}"
            )
        parametro_de.update(zip(guardado["params"], actual["params"], strict=True))
    nombre_de = {id(p): nombre for nombre, p in model.named_parameters()}
    for indice, estados in estado["state"].items():
        if indice not in parametro_de:
            raise ValueError(f"El estado del optimizador guardado en {path} habla de un parámetro {indice} que no existe.")
        parametro = parametro_de[indice]
        for clave in _ESTADOS_CON_FORMA_DEL_PARAMETRO:
            t = estados.get(clave)
            if isinstance(t, torch.Tensor) and t.shape != parametro.shape:
                nombre = nombre_de.get(id(parametro), "?")
                raise ValueError(
                    f"El estado del optimizador guardado en {path} no encaja: {clave} del parámetro {indice} "
                    f"({nombre}) tiene forma {tuple(t.shape)} y el parámetro {tuple(parametro.shape)}. {que_hacer}"
                )
