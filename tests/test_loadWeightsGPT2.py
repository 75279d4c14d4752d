"""Pruebas de seccion05/loadWeightsGPT2.py, sin conexión.

Comprueba el cargador contra una implementación independiente: un GPT2LMHeadModel de Hugging Face
`transformers`, pequeño y con pesos aleatorios, guardado en safetensors con los nombres de OpenAI. La descarga se
prueba contra un servidor HTTP local (127.0.0.1) que sabe reanudar y que puede cortar la conexión a medias.
"""

import hashlib
import json
import re
import struct

import pytest
import torch

from seccion02_TrabajarDatosTexto.downloadFile import DownloadError
from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05 import loadWeightsGPT2
from seccion05.generate import generate
from seccion05.loadWeightsGPT2 import (
    GPT2_MODELS,
    GPT2DownloadError,
    assign,
    check_gpt2_safetensors,
    download_gpt2,
    gpt2_config,
    gpt2_expected_shapes,
    gpt2_url,
    gpt2_weights_path,
    load_gpt2_params,
    load_pretrained_gpt2,
    load_weights_into_gpt,
    read_safetensors_header,
)
from tests.servidorHTTP import ServidorLocal

# Dependencias solo de pruebas (la CI las instala; ver .ci/run): sin ellas, este archivo se omite.
save_file = pytest.importorskip("safetensors.torch", reason="instala safetensors para esta prueba").save_file
_transformers = pytest.importorskip("transformers", reason="instala transformers para esta prueba")
GPT2Config, GPT2LMHeadModel = _transformers.GPT2Config, _transformers.GPT2LMHeadModel

# GPT-2 en miniatura: 2 capas, 4 cabezas, 64 dimensiones
CFG_MINI = {
    "vocab_size": 97,
    "context_length": 32,
    "emb_dim": 64,
    "n_heads": 4,
    "n_layers": 2,
    "drop_rate": 0.0,
    "qkv_bias": True,
}


@pytest.fixture(scope="module")
def hf_mini():
    """GPT2LMHeadModel de transformers con pesos aleatorios (sesgos y normas también aleatorios)."""
    config = GPT2Config(
        vocab_size=97, n_positions=32, n_embd=64, n_layer=2, n_head=4, bos_token_id=96, eos_token_id=96,
    )
    torch.manual_seed(123)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():  # por defecto los sesgos son 0 y las normas 1: así no probaríamos nada con ellos
        for nombre, p in model.named_parameters():
            if nombre.endswith("bias") or ".ln_" in nombre:
                p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def _archivo_como_el_de_openai(model, ruta, con_prefijo=False):
    """Guarda el modelo como el model.safetensors de openai-community/gpt2: nombres sin "transformer.", sin
    lm_head (atado a wte) y con el búfer de la máscara causal `h.N.attn.bias` de (1, 1, n_ctx, n_ctx)."""
    tensores = {}
    for nombre, t in model.transformer.state_dict().items():
        tensores[("transformer." if con_prefijo else "") + nombre] = t.detach().clone().contiguous()
    n_ctx = model.config.n_positions
    for b in range(model.config.n_layer):
        tensores[f"h.{b}.attn.bias"] = torch.tril(torch.ones(n_ctx, n_ctx)).view(1, 1, n_ctx, n_ctx)
    save_file(tensores, str(ruta), metadata={"format": "pt"})
    return ruta


@pytest.fixture(scope="module")
def archivo_mini(hf_mini, tmp_path_factory):
    return _archivo_como_el_de_openai(hf_mini, tmp_path_factory.mktemp("gpt2") / "model.safetensors")


@pytest.fixture(scope="module")
def gpt_cargado(archivo_mini):
    gpt = GPTModel(CFG_MINI)
    load_weights_into_gpt(gpt, load_gpt2_params(archivo_mini))
    return gpt.eval()


@pytest.fixture
def entrada():
    torch.manual_seed(0)
    return torch.randint(0, 97, (3, 20))


def test_logits_iguales_a_transformers(hf_mini, gpt_cargado, entrada):
    with torch.no_grad():
        esperado = hf_mini(entrada).logits
        obtenido = gpt_cargado(entrada)
    assert obtenido.shape == (3, 20, 97)
    torch.testing.assert_close(obtenido, esperado, rtol=0, atol=1e-5)


def test_generacion_voraz_igual_a_transformers(hf_mini, gpt_cargado):
    inicio = torch.tensor([[5, 17, 42, 3]])
    nuestro = generate(gpt_cargado, inicio, max_new_tokens=20, context_size=32)
    suyo = inicio
    for _ in range(20):  # decodificación voraz con el modelo de transformers, paso a paso
        with torch.no_grad():
            siguiente = hf_mini(suyo).logits[:, -1].argmax(dim=-1, keepdim=True)
        suyo = torch.cat((suyo, siguiente), dim=1)
    assert torch.equal(nuestro, suyo)
    assert torch.equal(nuestro, generate_text_simple(gpt_cargado, inicio, 20, 32))


def test_tambien_con_nombres_de_save_pretrained(hf_mini, tmp_path, entrada):
    ruta = _archivo_como_el_de_openai(hf_mini, tmp_path / "model.safetensors", con_prefijo=True)
    params = load_gpt2_params(ruta)
    assert "h.0.attn.c_attn.weight" in params and not any(k.startswith("transformer.") for k in params)
    gpt = GPTModel(CFG_MINI)
    load_weights_into_gpt(gpt, params)
    with torch.no_grad():
        torch.testing.assert_close(gpt.eval()(entrada), hf_mini(entrada).logits, rtol=0, atol=1e-5)


def test_detalles_del_mapeo(archivo_mini, gpt_cargado):
    params = load_gpt2_params(archivo_mini)
    bloque = gpt_cargado.trf_blocks[1]
    q, k, v = params["h.1.attn.c_attn.weight"].split(64, dim=1)  # (64, 192) = [consulta | clave | valor]
    assert torch.equal(bloque.att.W_query.weight, q.T)
    assert torch.equal(bloque.att.W_key.weight, k.T)
    assert torch.equal(bloque.att.W_value.weight, v.T)
    assert torch.equal(bloque.ff.layers[0].weight, params["h.1.mlp.c_fc.weight"].T)  # Conv1D traspuesta
    assert torch.equal(gpt_cargado.out_head.weight, params["wte.weight"])  # pesos atados
    assert torch.equal(gpt_cargado.tok_emb.weight, params["wte.weight"])


def test_forma_distinta_nombra_el_tensor(archivo_mini):
    params = load_gpt2_params(archivo_mini)
    with pytest.raises(ValueError, match=r"1 tensor con forma distinta \(wpe.weight: el modelo espera "
                                         r"\(16, 64\) y los pesos traen \(32, 64\)\)"):
        load_weights_into_gpt(GPTModel({**CFG_MINI, "context_length": 16}), params)
    ancho = GPTModel({**CFG_MINI, "emb_dim": 96})
    antes = {k: v.clone() for k, v in ancho.state_dict().items()}
    with pytest.raises(ValueError, match=r"tensores con forma distinta \(wte.weight: el modelo espera \(97, 96\) "
                                         r"y los pesos traen \(97, 64\); wpe.weight: .*; \.\.\.\)"):
        load_weights_into_gpt(ancho, params)
    assert all(torch.equal(v, antes[k]) for k, v in ancho.state_dict().items())  # el modelo no se ha tocado
    with pytest.raises(ValueError, match=r"Forma distinta en h.0.attn.c_proj.weight: el modelo espera \(64, 64\) "
                                         r"y los pesos traen \(64, 63\)"):
        assign(torch.zeros(64, 64), torch.zeros(64, 63), "h.0.attn.c_proj.weight")
    with pytest.raises(ValueError, match="Los pesos traen 2 bloques transformer y el modelo tiene 3"):
        load_weights_into_gpt(GPTModel({**CFG_MINI, "n_layers": 3}), params)
    with pytest.raises(ValueError, match="crea el modelo con qkv_bias=True"):
        load_weights_into_gpt(GPTModel({**CFG_MINI, "qkv_bias": False}), params)
    incompletos = {k: v for k, v in params.items() if k != "h.1.ln_2.bias"}
    with pytest.raises(ValueError, match=r"Faltan 1 tensores de GPT-2 en los pesos \(el primero, h.1.ln_2.bias\)"):
        load_weights_into_gpt(GPTModel(CFG_MINI), incompletos)


def test_configuraciones_de_los_cuatro_tamanos():
    assert list(GPT2_MODELS) == ["gpt2-small (124M)", "gpt2-medium (355M)", "gpt2-large (774M)", "gpt2-xl (1558M)"]
    tamanos = {n: (gpt2_config(n)["emb_dim"], gpt2_config(n)["n_layers"], gpt2_config(n)["n_heads"]) for n in GPT2_MODELS}
    assert tamanos == {
        "gpt2-small (124M)": (768, 12, 12), "gpt2-medium (355M)": (1024, 24, 16),
        "gpt2-large (774M)": (1280, 36, 20), "gpt2-xl (1558M)": (1600, 48, 25),
    }
    for nombre in GPT2_MODELS:
        cfg = gpt2_config(nombre)
        assert cfg["context_length"] == 1024 and cfg["qkv_bias"] and cfg["vocab_size"] == 50257
        n = sum(torch.Size(f).numel() for f in gpt2_expected_shapes(cfg).values())
        assert n == {"gpt2-small (124M)": 124_439_808, "gpt2-medium (355M)": 354_823_168,
                     "gpt2-large (774M)": 774_030_080, "gpt2-xl (1558M)": 1_557_611_200}[nombre]
    assert gpt2_url("gpt2-xl (1558M)") == "https://huggingface.co/openai-community/gpt2-xl/resolve/main/model.safetensors"
    assert gpt2_url() == (
        "https://huggingface.co/openai-community/gpt2/resolve/607a30d783dfa663caf39e06633721c8d4cfcd7e/model.safetensors"
    )
    with pytest.raises(ValueError, match="No conozco el modelo 'gpt2-enorme'"):
        gpt2_config("gpt2-enorme")


def test_tamano_del_124m_cuadra_con_su_cabecera():
    """548 105 171 bytes = 8 + cabecera + 124 439 808 pesos float32 + 12 máscaras de 1024×1024 float32."""
    datos = 124_439_808 * 4 + 12 * 1024 * 1024 * 4
    cabecera = GPT2_MODELS["gpt2-small (124M)"]["size"] - 8 - datos
    assert 0 < cabecera < 20_000


def test_cabecera_safetensors(archivo_mini, tmp_path):
    cabecera = read_safetensors_header(archivo_mini)
    assert cabecera["h.0.attn.c_attn.weight"]["shape"] == [64, 192]
    assert cabecera["h.0.attn.c_attn.weight"]["dtype"] == "F32"
    check_gpt2_safetensors(archivo_mini, CFG_MINI)

    cortado = tmp_path / "cortado.safetensors"
    cortado.write_bytes(archivo_mini.read_bytes()[:-100])
    with pytest.raises(ValueError, match="está incompleto o dañado"):
        read_safetensors_header(cortado)
    basura = tmp_path / "basura.safetensors"
    basura.write_bytes(struct.pack("<Q", 5) + b"{no j" + b"\0" * 50)
    with pytest.raises(ValueError, match="la cabecera no es JSON"):
        read_safetensors_header(basura)
    with pytest.raises(ValueError, match=r"el tensor wpe.weight tiene forma \(32, 64\) y la configuración elegida "
                                         r"espera \(1024, 64\)"):
        check_gpt2_safetensors(archivo_mini, {**CFG_MINI, "context_length": 1024})
    with pytest.raises(ValueError, match="no contiene el tensor h.2.ln_1.weight"):
        check_gpt2_safetensors(archivo_mini, {**CFG_MINI, "n_layers": 3})


def test_cabecera_con_huecos(tmp_path):
    cabecera = json.dumps({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                           "b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}}).encode()
    ruta = tmp_path / "huecos.safetensors"
    ruta.write_bytes(struct.pack("<Q", len(cabecera)) + cabecera + b"\0" * 16)
    with pytest.raises(ValueError, match="tienen huecos o se solapan"):
        read_safetensors_header(ruta)


def test_load_pretrained_gpt2_sin_pesos_no_descarga(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No encuentro los pesos de gpt2-small \(124M\).*DESCARGAR = True"):
        load_pretrained_gpt2("gpt2-small (124M)", models_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_load_pretrained_gpt2_con_pesos(hf_mini, tmp_path, monkeypatch, entrada):
    """El camino completo (ruta → comprobación → carga → eval), con la configuración en miniatura."""
    monkeypatch.setitem(GPT2_MODELS, "gpt2-mini", {"repo": "prueba/gpt2-mini", "emb_dim": 64, "n_layers": 2,
                                                   "n_heads": 4, "revision": "main", "size": None, "sha256": None})
    monkeypatch.setattr(loadWeightsGPT2, "GPT2_BASE_CONFIG", {**CFG_MINI})
    ruta = gpt2_weights_path("gpt2-mini", tmp_path)
    assert ruta == tmp_path / "gpt2-mini" / "model.safetensors"
    ruta.parent.mkdir()
    _archivo_como_el_de_openai(hf_mini, ruta)
    gpt = load_pretrained_gpt2("gpt2-mini", models_dir=tmp_path)
    assert not gpt.training
    with torch.no_grad():
        torch.testing.assert_close(gpt(entrada), hf_mini(entrada).logits, rtol=0, atol=1e-5)
    assert download_gpt2("gpt2-mini", models_dir=tmp_path) == ruta  # ya está: no descarga nada


# ---------------------------------------------------------------------------------------------------------------
# Descarga (download_file, de downloadFile.py, se prueba a fondo en tests/test_downloadFile.py): aquí, lo propio
# de GPT-2, contra un servidor HTTP local que sirve el model.safetensors en miniatura


@pytest.fixture
def servidor(archivo_mini):
    with ServidorLocal(archivo_mini.read_bytes(), "model.safetensors") as s:
        yield s


def _sha(datos: bytes) -> str:
    return hashlib.sha256(datos).hexdigest()


@pytest.fixture
def gpt2_mini(monkeypatch, servidor):
    """Un «tamaño» más de GPT-2, el de miniatura, que se descarga del servidor local."""

    def registrar(size=None, sha256=None):
        monkeypatch.setitem(GPT2_MODELS, "gpt2-mini", {"repo": "prueba/gpt2-mini", "emb_dim": 64, "n_layers": 2,
                                                       "n_heads": 4, "revision": "main", "size": size,
                                                       "sha256": sha256})
        monkeypatch.setattr(loadWeightsGPT2, "GPT2_BASE_CONFIG", {**CFG_MINI})
        monkeypatch.setattr(loadWeightsGPT2, "gpt2_url", lambda model_name: servidor.url)
        return "gpt2-mini"

    return registrar


def test_los_tamanos_fijan_su_version():
    for nombre, info in GPT2_MODELS.items():
        assert info["revision"] == "main" or re.fullmatch(r"[0-9a-f]{40}", info["revision"]), nombre
        assert info["sha256"] is None or re.fullmatch(r"[0-9a-f]{64}", info["sha256"]), nombre
        assert info["sha256"] is None or info["revision"] != "main", nombre  # una suma solo vale para un commit
    # Solo el 124M tiene tamaño y sha256: es el único cuya descarga se puede reanudar
    assert [n for n, i in GPT2_MODELS.items() if i["size"] and i["sha256"]] == ["gpt2-small (124M)"]


def test_el_error_de_siempre_es_el_de_download_file():
    assert GPT2DownloadError is DownloadError


def test_download_gpt2_cortada_se_reanuda(gpt2_mini, servidor, tmp_path, capsys):
    contenido = servidor.contenido
    nombre = gpt2_mini(size=len(contenido), sha256=_sha(contenido))
    destino = gpt2_weights_path(nombre, tmp_path)
    servidor.cortar_tras = len(contenido) // 2
    with pytest.raises(GPT2DownloadError, match="la conexión se cortó.*Lo descargado se conserva en .*model.safetensors"
                                                ".part"):
        download_gpt2(nombre, models_dir=tmp_path)
    assert not destino.exists()  # el archivo definitivo no aparece a medias
    assert (destino.parent / "model.safetensors.part").stat().st_size == len(contenido) // 2

    servidor.cortar_tras = None
    assert download_gpt2(nombre, models_dir=tmp_path) == destino
    assert servidor.peticiones == [None, f"bytes={len(contenido) // 2}-"]  # la segunda vez solo pide lo que falta
    assert destino.read_bytes() == contenido
    assert sorted(p.name for p in destino.parent.iterdir()) == ["model.safetensors"]
    salida = capsys.readouterr()
    assert "model.safetensors" in salida.err and "100%" in salida.err  # la barra de progreso
    assert "sha256 de" not in salida.out  # el sha256 ya se ha comprobado: no hace falta mostrarlo


def test_download_gpt2_sin_sha256_lo_muestra(gpt2_mini, servidor, tmp_path, capsys):
    nombre = gpt2_mini()
    destino = download_gpt2(nombre, models_dir=tmp_path, progress=False)
    assert destino.read_bytes() == servidor.contenido
    assert f"sha256 de {destino}: {_sha(servidor.contenido)}" in capsys.readouterr().out


def test_download_gpt2_comprueba_la_cabecera(gpt2_mini, servidor, tmp_path, monkeypatch):
    nombre = gpt2_mini()
    monkeypatch.setitem(GPT2_MODELS[nombre], "n_layers", 3)  # el archivo trae 2 bloques
    with pytest.raises(GPT2DownloadError, match="no es válido y se ha borrado: .*no contiene el tensor h.2"):
        download_gpt2(nombre, models_dir=tmp_path, progress=False)
    assert list(gpt2_weights_path(nombre, tmp_path).parent.iterdir()) == []


def test_download_gpt2_sin_conexion(gpt2_mini, tmp_path, monkeypatch):
    nombre = gpt2_mini()
    monkeypatch.setattr(loadWeightsGPT2, "gpt2_url", lambda model_name: "http://127.0.0.1:9/model.safetensors")
    with pytest.raises(GPT2DownloadError, match="No se pudo descargar http://127.0.0.1:9/model.safetensors"):
        download_gpt2(nombre, models_dir=tmp_path, progress=False)
    assert not gpt2_weights_path(nombre, tmp_path).exists()
