"""Descargar los pesos preentrenados de GPT-2 (formato safetensors de Hugging Face) y cargarlos en GPTModel.

Sirve para los cuatro tamaños de GPT-2: 124M, 355M, 774M y 1558M. Sin TensorFlow: los pesos se leen del
archivo `model.safetensors` de los repositorios `openai-community/gpt2*` de Hugging Face.

- La descarga es explícita (nunca empieza sola), muestra el progreso y es atómica: el archivo definitivo solo
  aparece, con un renombrado, cuando está completo y comprobado. La hace `download_file` (de
  seccion02_TrabajarDatosTexto/downloadFile.py), la misma que descarga «The Verdict»; si se corta, sigue desde el
  archivo `.part` cuando se conocen el tamaño y el sha256 del archivo (el 124M) y, si no, empieza de nuevo.
- Comprobaciones: tamaño y sha256 del archivo donde se conocen, y siempre la cabecera safetensors: que estén
  todos los tensores de GPT-2 con la forma de la configuración elegida y que los datos ocupen exactamente el
  resto del archivo (un archivo cortado no pasa).

Se explica en: seccion05/5_cargar_pesos_gpt2.ipynb
"""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

import torch

from seccion02_TrabajarDatosTexto.downloadFile import DownloadError, download_file, sha256_file
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.modelsDir import models_dir as carpeta_de_modelos

# Lo común a los cuatro GPT-2: vocabulario, contexto de 1024 tokens y sesgo en consulta, clave y valor
GPT2_BASE_CONFIG = {**GPT_CONFIG_124M, "context_length": 1024, "qkv_bias": True}

# Los cuatro tamaños. `revision` fija la versión del repositorio (un commit) para que el archivo no cambie.
# `size` y `sha256` son los del model.safetensors en ese commit, tal como los publica Hugging Face (el oid sha256 del
# puntero de Git LFS que muestra la página del archivo). Solo están los que se conocen con certeza:
# - 124M: tamaño exacto y sha256 (el único con los dos: solo su descarga se puede reanudar).
# - 355M y 774M: el sha256 (páginas del archivo en openai-community/gpt2-medium y gpt2-large, cuyo último cambio es
#   el commit fijado, «Adding `safetensors` variant of this model»); Hugging Face solo muestra el tamaño
#   redondeado (1.52 GB y 3.25 GB), así que `size` es None y una descarga cortada empieza de nuevo.
# - 1558M: ni commit completo ni sha256 seguros: se descarga de "main", se comprueba la cabecera y se muestra el
#   sha256 obtenido para que lo compares con el de la página del archivo en Hugging Face.
GPT2_MODELS = {
    "gpt2-small (124M)": {
        "repo": "openai-community/gpt2",
        "emb_dim": 768,  # dimensión de los embeddings
        "n_layers": 12,  # bloques transformer
        "n_heads": 12,  # cabezas de atención
        "revision": "607a30d783dfa663caf39e06633721c8d4cfcd7e",
        "size": 548_105_171,  # bytes
        "sha256": "248dfc3911869ec493c76e65bf2fcf7f615828b0254c12b473182f0f81d3a707",
    },
    "gpt2-medium (355M)": {
        "repo": "openai-community/gpt2-medium", "emb_dim": 1024, "n_layers": 24, "n_heads": 16,
        "revision": "425b0cc90498ac177aa51ba07be26fc2fea6af9d", "size": None,
        "sha256": "fc5a354a19255ad494f3d71549390baca1ccf61d1d822b9408971705c687c9cd",
    },
    "gpt2-large (774M)": {
        "repo": "openai-community/gpt2-large", "emb_dim": 1280, "n_layers": 36, "n_heads": 20,
        "revision": "212095d5832abbf9926672e1c1e8d14312a3be20", "size": None,
        "sha256": "5f47f3e12f91cd33b662ce7e433b6150ad5512b5884a2cee961b50e9c3bbebce",
    },
    "gpt2-xl (1558M)": {
        "repo": "openai-community/gpt2-xl", "emb_dim": 1600, "n_layers": 48, "n_heads": 25,
        "revision": "main", "size": None, "sha256": None,
    },
}

# Tipos de datos de safetensors que puede traer un GPT-2 y cuántos bytes ocupa cada elemento
_BYTES_POR_ELEMENTO = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8}


# El nombre de siempre para el error de descarga de los pesos: es la misma clase que DownloadError
GPT2DownloadError = DownloadError


def _info_modelo(model_name: str) -> dict:
    if model_name not in GPT2_MODELS:
        raise ValueError(f"No conozco el modelo {model_name!r}. Elige uno de: {', '.join(GPT2_MODELS)}.")
    return GPT2_MODELS[model_name]


def gpt2_config(model_name: str = "gpt2-small (124M)") -> dict:
    """Configuración de GPTModel para un tamaño de GPT-2 (contexto 1024, qkv_bias=True)."""
    info = _info_modelo(model_name)
    return {**GPT2_BASE_CONFIG, "emb_dim": info["emb_dim"], "n_layers": info["n_layers"], "n_heads": info["n_heads"]}


def gpt2_url(model_name: str = "gpt2-small (124M)") -> str:
    """URL del archivo model.safetensors de ese tamaño en Hugging Face."""
    info = _info_modelo(model_name)
    return f"https://huggingface.co/{info['repo']}/resolve/{info['revision']}/model.safetensors"


def gpt2_weights_path(model_name: str = "gpt2-small (124M)", models_dir: str | os.PathLike | None = None) -> Path:
    """Ruta local donde se guarda (o se guardaría) el model.safetensors de ese tamaño.

    Una carpeta por tamaño: `gpt2/124M/model.safetensors` dentro de `models_dir` (por defecto, la carpeta de modelos
    del curso, `models_dir()` de modelsDir.py: seccion05/modelos/ o la de LLM_MODELOS_DIR).
    """
    _info_modelo(model_name)
    carpeta = Path(models_dir) if models_dir is not None else carpeta_de_modelos() / "gpt2"
    tamano = re.search(r"\(([^)]+)\)", model_name)  # "gpt2-small (124M)" -> "124M"
    return carpeta / (tamano.group(1) if tamano else model_name) / "model.safetensors"


def gpt2_expected_shapes(cfg: dict) -> dict[str, tuple[int, ...]]:
    """Nombres y formas de los tensores de un GPT-2 con la configuración `cfg`, como en el archivo de OpenAI.

    Las matrices de las capas Conv1D de GPT-2 se guardan como (entrada, salida): al revés que nn.Linear.
    """
    d, v, c = cfg["emb_dim"], cfg["vocab_size"], cfg["context_length"]
    formas = {"wte.weight": (v, d), "wpe.weight": (c, d)}
    for b in range(cfg["n_layers"]):
        formas |= {
            f"h.{b}.ln_1.weight": (d,), f"h.{b}.ln_1.bias": (d,),
            f"h.{b}.attn.c_attn.weight": (d, 3 * d), f"h.{b}.attn.c_attn.bias": (3 * d,),
            f"h.{b}.attn.c_proj.weight": (d, d), f"h.{b}.attn.c_proj.bias": (d,),
            f"h.{b}.ln_2.weight": (d,), f"h.{b}.ln_2.bias": (d,),
            f"h.{b}.mlp.c_fc.weight": (d, 4 * d), f"h.{b}.mlp.c_fc.bias": (4 * d,),
            f"h.{b}.mlp.c_proj.weight": (4 * d, d), f"h.{b}.mlp.c_proj.bias": (d,),
        }
    formas |= {"ln_f.weight": (d,), "ln_f.bias": (d,)}
    return formas


def _sin_prefijo(nombre: str) -> str:
    # Los archivos guardados con transformers (save_pretrained) anteponen "transformer." a los nombres
    return nombre.removeprefix("transformer.")


def read_safetensors_header(path: str | os.PathLike) -> dict:
    """Lee y valida la cabecera de un archivo safetensors; devuelve {nombre: {"dtype", "shape", "data_offsets"}}.

    Formato: 8 bytes (entero sin signo, little-endian) con la longitud N de la cabecera, N bytes de JSON y los
    datos de todos los tensores seguidos. Comprueba que los tensores ocupan exactamente los datos, sin huecos ni
    solapes, y que los datos llegan justo hasta el final del archivo (un archivo cortado no pasa).
    """
    path = Path(path)
    tamano = path.stat().st_size
    with open(path, "rb") as f:
        crudo = f.read(8)
        if len(crudo) < 8:
            raise ValueError(f"{path} no es un archivo safetensors: tiene solo {tamano} bytes.")
        (n,) = struct.unpack("<Q", crudo)
        if n > min(100_000_000, tamano - 8):
            raise ValueError(f"{path} no es un archivo safetensors válido: su cabecera dice medir {n} bytes.")
        try:
            cabecera = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} no es un archivo safetensors válido: la cabecera no es JSON.") from exc
    cabecera.pop("__metadata__", None)

    tramos = []
    for nombre, t in cabecera.items():
        if t["dtype"] not in _BYTES_POR_ELEMENTO:
            raise ValueError(f"{path}: el tensor {nombre} tiene un tipo {t['dtype']} que este cargador no admite.")
        inicio, fin = t["data_offsets"]
        elementos = 1
        for dim in t["shape"]:
            elementos *= dim
        if fin - inicio != elementos * _BYTES_POR_ELEMENTO[t["dtype"]]:
            raise ValueError(f"{path}: el tensor {nombre} no ocupa los bytes que corresponden a su forma.")
        tramos.append((inicio, fin))
    tramos.sort()
    fin_anterior = 0
    for inicio, fin in tramos:
        if inicio != fin_anterior:
            raise ValueError(f"{path}: los datos de los tensores tienen huecos o se solapan.")
        fin_anterior = fin
    if 8 + n + fin_anterior != tamano:
        raise ValueError(
            f"{path} está incompleto o dañado: la cabecera anuncia {8 + n + fin_anterior} bytes y el archivo tiene "
            f"{tamano}. Bórralo y descárgalo de nuevo."
        )
    return cabecera


def check_gpt2_safetensors(path: str | os.PathLike, cfg: dict) -> None:
    """Comprueba que el archivo es un safetensors íntegro con todos los tensores de un GPT-2 de configuración `cfg`."""
    cabecera = {_sin_prefijo(k): v for k, v in read_safetensors_header(path).items()}
    for nombre, forma in gpt2_expected_shapes(cfg).items():
        if nombre not in cabecera:
            raise ValueError(f"{path} no contiene el tensor {nombre}: no es un GPT-2 de esta configuración.")
        if tuple(cabecera[nombre]["shape"]) != forma:
            raise ValueError(
                f"{path}: el tensor {nombre} tiene forma {tuple(cabecera[nombre]['shape'])} y la configuración "
                f"elegida espera {forma}. ¿Es el archivo de otro tamaño de GPT-2?"
            )


def download_gpt2(model_name: str = "gpt2-small (124M)", models_dir: str | os.PathLike | None = None,
                  progress: bool = True) -> Path:
    """Descarga (si hace falta) el model.safetensors de un tamaño de GPT-2 y devuelve su ruta.

    Si el archivo ya está, no descarga nada: solo comprueba su tamaño y su cabecera. Al descargarlo comprueba
    tamaño y sha256 (donde se conocen) y la cabecera antes de darlo por bueno; donde no se conoce el sha256,
    lo muestra para que lo compares con el de Hugging Face.
    """
    info = _info_modelo(model_name)
    path = gpt2_weights_path(model_name, models_dir)
    cfg = gpt2_config(model_name)
    if path.exists():
        if info["size"] is not None and path.stat().st_size != info["size"]:
            raise ValueError(
                f"{path} tiene {path.stat().st_size} bytes y deberían ser {info['size']}: bórralo y descárgalo de nuevo."
            )
        check_gpt2_safetensors(path, cfg)
        return path
    download_file(gpt2_url(model_name), path, size=info["size"], sha256=info["sha256"], progress=progress,
                  verify=lambda parte: check_gpt2_safetensors(parte, cfg))
    if info["sha256"] is None:
        print(f"sha256 de {path}: {sha256_file(path)}\n(compáralo con el que muestra Hugging Face en la página del archivo)")
    return path


def load_gpt2_params(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Lee un model.safetensors de GPT-2 y devuelve {nombre: tensor} con los nombres de OpenAI (sin "transformer.").

    Usa la biblioteca `safetensors`, que no ejecuta código al leer (a diferencia de un pickle).
    """
    from safetensors.torch import load_file

    return {_sin_prefijo(k): v for k, v in load_file(str(path)).items()}


def assign(left: torch.Tensor, right: torch.Tensor, nombre: str = "") -> torch.nn.Parameter:
    """Devuelve `right` como parámetro para sustituir a `left`, tras comprobar que tienen la misma forma."""
    if left.shape != right.shape:
        raise ValueError(
            f"Forma distinta en {nombre}: el modelo espera {tuple(left.shape)} y los pesos traen "
            f"{tuple(right.shape)}. Crea GPTModel con la configuración del mismo tamaño de GPT-2 (gpt2_config)."
        )
    return torch.nn.Parameter(right.detach().clone().to(dtype=left.dtype, device=left.device))


def check_gpt2_params(gpt, params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Comprueba, antes de tocar el modelo, que los pesos de GPT-2 de `params` caben en `gpt`.

    Quita el prefijo "transformer." de los nombres (archivos de save_pretrained) y comprueba qkv_bias, el número de
    bloques, que no falte ningún tensor y que todas las formas encajen; el error nombra los tensores que no encajan.
    Devuelve los pesos con los nombres de OpenAI.
    """
    params = {_sin_prefijo(k): v for k, v in params.items()}
    if gpt.trf_blocks[0].att.W_query.bias is None:
        raise ValueError("GPT-2 usa sesgo en consulta, clave y valor: crea el modelo con qkv_bias=True (gpt2_config).")
    capas = sorted({int(k.split(".")[1]) for k in params if k.startswith("h.")})
    if len(capas) != len(gpt.trf_blocks):
        raise ValueError(
            f"Los pesos traen {len(capas)} bloques transformer y el modelo tiene {len(gpt.trf_blocks)}: "
            "crea GPTModel con la configuración del mismo tamaño de GPT-2 (gpt2_config)."
        )
    # Antes de tocar el modelo, comprueba que están todos los tensores y que todas las formas encajan
    esperadas = gpt2_expected_shapes({**GPT2_BASE_CONFIG, **_dims(gpt)})
    faltan = [k for k in esperadas if k not in params]
    if faltan:
        raise ValueError(f"Faltan {len(faltan)} tensores de GPT-2 en los pesos (el primero, {faltan[0]}).")
    distintas = [
        f"{k}: el modelo espera {forma} y los pesos traen {tuple(params[k].shape)}"
        for k, forma in esperadas.items()
        if tuple(params[k].shape) != forma
    ]
    if distintas:
        raise ValueError(
            f"{len(distintas)} {'tensor' if len(distintas) == 1 else 'tensores'} con forma distinta "
            f"({'; '.join(distintas[:2])}"
            f"{'; ...' if len(distintas) > 2 else ''}). "
            "Crea GPTModel con la configuración del mismo tamaño de GPT-2 (gpt2_config)."
        )
    return params


def load_weights_into_gpt(gpt, params: dict[str, torch.Tensor]) -> None:
    """Copia en `gpt` (un GPTModel con qkv_bias=True) los pesos de GPT-2 de `params` (nombres de OpenAI).

    - `c_attn` junta consulta, clave y valor: se parte en tres trozos iguales (W_query, W_key, W_value).
    - Las capas Conv1D de GPT-2 guardan la matriz como (entrada, salida): se trasponen para nn.Linear.
    - La cabeza de salida usa la misma matriz que el embedding de tokens (`wte`): GPT-2 ata los dos pesos.
    Antes de cambiar nada comprueba nombres y formas (check_gpt2_params).
    """
    params = check_gpt2_params(gpt, params)

    gpt.pos_emb.weight = assign(gpt.pos_emb.weight, params["wpe.weight"], "wpe.weight → pos_emb.weight")
    gpt.tok_emb.weight = assign(gpt.tok_emb.weight, params["wte.weight"], "wte.weight → tok_emb.weight")

    for b, block in enumerate(gpt.trf_blocks):
        p = f"h.{b}."
        att, ff = block.att, block.ff
        # c_attn: (emb_dim, 3·emb_dim) = [consulta | clave | valor]; se parte y se traspone cada trozo
        q_w, k_w, v_w = torch.chunk(params[p + "attn.c_attn.weight"], 3, dim=-1)
        att.W_query.weight = assign(att.W_query.weight, q_w.T, p + "attn.c_attn.weight (consulta)")
        att.W_key.weight = assign(att.W_key.weight, k_w.T, p + "attn.c_attn.weight (clave)")
        att.W_value.weight = assign(att.W_value.weight, v_w.T, p + "attn.c_attn.weight (valor)")
        q_b, k_b, v_b = torch.chunk(params[p + "attn.c_attn.bias"], 3, dim=-1)
        att.W_query.bias = assign(att.W_query.bias, q_b, p + "attn.c_attn.bias (consulta)")
        att.W_key.bias = assign(att.W_key.bias, k_b, p + "attn.c_attn.bias (clave)")
        att.W_value.bias = assign(att.W_value.bias, v_b, p + "attn.c_attn.bias (valor)")

        att.out_proj.weight = assign(att.out_proj.weight, params[p + "attn.c_proj.weight"].T, p + "attn.c_proj.weight")
        att.out_proj.bias = assign(att.out_proj.bias, params[p + "attn.c_proj.bias"], p + "attn.c_proj.bias")

        ff.layers[0].weight = assign(ff.layers[0].weight, params[p + "mlp.c_fc.weight"].T, p + "mlp.c_fc.weight")
        ff.layers[0].bias = assign(ff.layers[0].bias, params[p + "mlp.c_fc.bias"], p + "mlp.c_fc.bias")
        ff.layers[2].weight = assign(ff.layers[2].weight, params[p + "mlp.c_proj.weight"].T, p + "mlp.c_proj.weight")
        ff.layers[2].bias = assign(ff.layers[2].bias, params[p + "mlp.c_proj.bias"], p + "mlp.c_proj.bias")

        block.norm1.scale = assign(block.norm1.scale, params[p + "ln_1.weight"], p + "ln_1.weight")
        block.norm1.shift = assign(block.norm1.shift, params[p + "ln_1.bias"], p + "ln_1.bias")
        block.norm2.scale = assign(block.norm2.scale, params[p + "ln_2.weight"], p + "ln_2.weight")
        block.norm2.shift = assign(block.norm2.shift, params[p + "ln_2.bias"], p + "ln_2.bias")

    gpt.final_norm.scale = assign(gpt.final_norm.scale, params["ln_f.weight"], "ln_f.weight")
    gpt.final_norm.shift = assign(gpt.final_norm.shift, params["ln_f.bias"], "ln_f.bias")
    # Pesos atados: GPT-2 usa la misma matriz para el embedding de tokens y para la cabeza de salida
    cabeza = params.get("lm_head.weight", params["wte.weight"])
    gpt.out_head.weight = assign(gpt.out_head.weight, cabeza, "wte.weight → out_head.weight")


def _dims(gpt) -> dict:
    """Tamaños de un GPTModel construido (para saber qué tensores de GPT-2 le corresponden)."""
    return {
        "vocab_size": gpt.tok_emb.num_embeddings,
        "context_length": gpt.pos_emb.num_embeddings,
        "emb_dim": gpt.tok_emb.embedding_dim,
        "n_layers": len(gpt.trf_blocks),
    }


def load_pretrained_gpt2(model_name: str = "gpt2-small (124M)", models_dir: str | os.PathLike | None = None,
                         device=None) -> GPTModel:
    """GPTModel con los pesos de GPT-2 ya descargados, en modo evaluación. No descarga nada.

    Si el archivo no está, lanza FileNotFoundError diciendo cómo descargarlo.
    """
    path = gpt2_weights_path(model_name, models_dir)
    if not path.exists():
        raise FileNotFoundError(
            f"No encuentro los pesos de {model_name} en {path}. Descárgalos con download_gpt2({model_name!r}) "
            "(en el cuaderno 5_cargar_pesos_gpt2.ipynb, pon DESCARGAR = True)."
        )
    cfg = gpt2_config(model_name)
    check_gpt2_safetensors(path, cfg)
    gpt = GPTModel(cfg)
    load_weights_into_gpt(gpt, load_gpt2_params(path))
    if device is not None:
        gpt.to(device)
    return gpt.eval()
