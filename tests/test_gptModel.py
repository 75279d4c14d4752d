"""Pruebas del modelo GPT completo (gptModel.py) y de su configuración (gptConfig124M.py).

Los valores de referencia de los pesos iniciales se midieron una vez, a mano, con el código del libro
(llms_from_scratch.ch04.GPTModel, semilla 123): los state_dict de los dos modelos eran idénticos, tensor a tensor,
con la configuración pequeña de estas pruebas y con la de 124M. Aquí se guardan algunos elementos y sumas.
"""

import ast
import inspect
import textwrap

import pytest
import torch

from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel, check_config
from tests.configuraciones import CFG_DIMINUTA

CFG = CFG_DIMINUTA
CFG_124M_256 = {**GPT_CONFIG_124M, "context_length": 256}

# (clave, forma, primeros 3 elementos, último elemento, suma, suma de valores absolutos), medidos con el libro.
HUELLAS_PEQUENA = [
    ("tok_emb.weight", (50257, 32), [0.3373701870441437, -0.1777772158384323, -0.3035275936126709],
     0.066385418176651, -938.7451951545, 1284000.6076753153),
    ("pos_emb.weight", (16, 32), [-0.002487834310159087, 0.17652010917663574, -0.6869604587554932],
     0.7922760844230652, 18.8372336554, 418.6033977137),
    ("trf_blocks.0.att.W_query.weight", (32, 32), [-0.1402602344751358, -0.07599318772554398, -0.1363850086927414],
     -0.10854785889387131, 1.8364411319, 92.7854839537),
    ("trf_blocks.1.ff.layers.2.bias", (32,), [0.0002368758141528815, 0.00813955720514059, -0.08011997491121292],
     0.06441274285316467, -0.2177476399, 1.4842207171),
    ("out_head.weight", (50257, 32), [-0.16282334923744202, -0.0733676552772522, 0.018100744113326073],
     -0.08034643530845642, 44.6549946061, 142313.3353273561),
]
TOTALES_PEQUENA = (-479.7883434952, 1428979.0432473859)  # suma y suma de absolutos de todo el state_dict

HUELLAS_124M_256 = [
    ("tok_emb.weight", (50257, 768), [0.3373701870441437, -0.1777772158384323, -0.3035275936126709],
     0.5888524055480957, 2627.5139681208, 30798401.4153376594),
    ("pos_emb.weight", (256, 768), [0.8768733143806458, 0.25502535700798035, 0.8441239595413208],
     -0.12359128892421722, -430.4379474185, 156586.3539217770),
    ("trf_blocks.0.att.W_query.weight", (768, 768), [0.02834736742079258, -0.03321906924247742, 0.01250658929347992],
     -0.01660541072487831, 4.2450400022, 10627.1423352641),
    ("trf_blocks.1.ff.layers.2.bias", (768,), [0.0007236658711917698, -0.016033675521612167, -0.009265495464205742],
     -0.010199790820479393, -0.0937471292, 6.8048871127),
    ("out_head.weight", (50257, 768), [-0.028531109914183617, -0.0213463231921196, -0.0034006601199507713],
     0.012361320666968822, 217.1032686720, 696302.3918786594),
]
TOTALES_124M_256 = (413500.0823795598, 33339943.3926487081)

CLAVES_UN_BLOQUE = [
    "tok_emb.weight", "pos_emb.weight",
    "trf_blocks.0.att.mask",
    "trf_blocks.0.att.W_query.weight", "trf_blocks.0.att.W_key.weight", "trf_blocks.0.att.W_value.weight",
    "trf_blocks.0.att.out_proj.weight", "trf_blocks.0.att.out_proj.bias",
    "trf_blocks.0.ff.layers.0.weight", "trf_blocks.0.ff.layers.0.bias",
    "trf_blocks.0.ff.layers.2.weight", "trf_blocks.0.ff.layers.2.bias",
    "trf_blocks.0.norm1.scale", "trf_blocks.0.norm1.shift", "trf_blocks.0.norm2.scale", "trf_blocks.0.norm2.shift",
    "final_norm.scale", "final_norm.shift",
    "out_head.weight",
]


@pytest.fixture(scope="module")
def modelo_124m_256():
    """El modelo de partida de la sección 5: semilla 123, context_length=256, en modo evaluación."""
    torch.manual_seed(123)
    return GPTModel(CFG_124M_256).eval()


def _modelo_pequeno(**cambios):
    torch.manual_seed(123)
    return GPTModel({**CFG, **cambios})


def _comprobar_huellas(state_dict, huellas, totales):
    for clave, forma, primeros, ultimo, suma, suma_abs in huellas:
        t = state_dict[clave]
        assert tuple(t.shape) == forma, clave
        torch.testing.assert_close(t.flatten()[:3], torch.tensor(primeros), rtol=1e-6, atol=1e-7, msg=clave)
        torch.testing.assert_close(t.flatten()[-1].item(), ultimo, rtol=1e-6, atol=1e-7, msg=clave)
        torch.testing.assert_close(t.double().sum().item(), suma, rtol=1e-7, atol=1e-6, msg=clave)
        torch.testing.assert_close(t.double().abs().sum().item(), suma_abs, rtol=1e-7, atol=1e-6, msg=clave)
    suma = sum(t.double().sum().item() for t in state_dict.values())
    suma_abs = sum(t.double().abs().sum().item() for t in state_dict.values())
    torch.testing.assert_close((suma, suma_abs), totales, rtol=1e-7, atol=1e-6)


# --- Configuración ---------------------------------------------------------------------------------------------------

def test_configuracion_124m():
    assert GPT_CONFIG_124M == {
        "vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12, "n_layers": 12,
        "drop_rate": 0.1, "qkv_bias": False,
    }


# --- Formas y parámetros ---------------------------------------------------------------------------------------------

def test_formas_en_cada_capa():
    modelo = _modelo_pequeno().eval()
    formas = {}

    def anotar(nombre):
        return lambda _modulo, _entrada, salida: formas.__setitem__(nombre, tuple(salida.shape))

    for nombre, modulo in modelo.named_modules():
        if nombre:
            modulo.register_forward_hook(anotar(nombre))

    logits = modelo(torch.randint(0, 50257, (3, 5)))
    assert logits.shape == (3, 5, 50257)
    assert formas["tok_emb"] == (3, 5, 32)
    assert formas["pos_emb"] == (5, 32)
    assert formas["drop_emb"] == (3, 5, 32)
    for i in range(2):
        for subcapa in ["att", "ff", "norm1", "norm2", "drop_shortcut"]:
            assert formas[f"trf_blocks.{i}.{subcapa}"] == (3, 5, 32), (i, subcapa)
        assert formas[f"trf_blocks.{i}"] == (3, 5, 32)
    assert formas["trf_blocks.0.att.W_query"] == (3, 5, 32)
    assert formas["trf_blocks.0.ff.layers.0"] == (3, 5, 128)  # la feed-forward expande a 4·emb_dim
    assert formas["trf_blocks.0.ff.layers.1"] == (3, 5, 128)
    assert formas["trf_blocks.0.ff.layers"] == (3, 5, 32)
    assert formas["trf_blocks"] == (3, 5, 32)
    assert formas["final_norm"] == (3, 5, 32)
    assert formas["out_head"] == (3, 5, 50257)


def test_nombres_y_orden_de_capas():
    modelo = _modelo_pequeno(n_layers=1)
    assert [n for n, _ in modelo.named_children()] == ["tok_emb", "pos_emb", "drop_emb", "trf_blocks", "final_norm",
                                                     "out_head"]
    assert isinstance(modelo.trf_blocks, torch.nn.Sequential)
    assert modelo.out_head.bias is None
    assert list(modelo.state_dict()) == CLAVES_UN_BLOQUE


def test_parametros_124m():
    with torch.device("meta"):  # solo las formas: no reserva memoria
        modelo = GPTModel(GPT_CONFIG_124M)
    total = sum(p.numel() for p in modelo.parameters())
    assert total == 163_009_536
    assert total - modelo.out_head.weight.numel() == 124_412_160  # con pesos compartidos (weight tying)
    assert f"{total * 4 / (1024 * 1024):.2f}" == "621.83"  # MB en float32
    assert sum(p.numel() for p in modelo.trf_blocks.parameters()) == 85_026_816


def test_parametros_configuracion_pequena():
    e, v, c, capas = 32, 50257, 16, 2
    por_bloque = 4 * e * e + e + (e * 4 * e + 4 * e) + (4 * e * e + e) + 4 * e
    esperado = v * e + c * e + capas * por_bloque + 2 * e + e * v
    assert sum(p.numel() for p in _modelo_pequeno().parameters()) == esperado


# --- Pesos iniciales idénticos a los del libro ------------------------------------------------------------------------

def test_pesos_iniciales_como_el_libro_configuracion_pequena():
    _comprobar_huellas(_modelo_pequeno().state_dict(), HUELLAS_PEQUENA, TOTALES_PEQUENA)


def test_pesos_iniciales_como_el_libro_124m(modelo_124m_256):
    _comprobar_huellas(modelo_124m_256.state_dict(), HUELLAS_124M_256, TOTALES_124M_256)


# --- Texto de referencia ---------------------------------------------------------------------------------------------

def test_texto_de_referencia(modelo_124m_256):
    tokenizer = get_tokenizer()
    idx = torch.tensor(tokenizer.encode("Every effort moves you")).unsqueeze(0)
    salida = generate_text_simple(modelo_124m_256, idx, max_new_tokens=10, context_size=256)
    assert salida[0].tolist() == [6109, 3626, 6100, 345, 34245, 5139, 2492, 25405, 17434, 17853, 5308, 3398, 13174,
                                  43071]
    assert tokenizer.decode(salida[0].tolist()) == "Every effort moves you rentingetic wasnم refres RexMeCHicular stren"


def test_eval_es_determinista_y_train_usa_dropout():
    modelo = _modelo_pequeno()
    idx = torch.randint(0, 50257, (2, 8))
    modelo.eval()
    with torch.no_grad():
        assert torch.equal(modelo(idx), modelo(idx))
        modelo.train()
        torch.manual_seed(1)
        a = modelo(idx)
        torch.manual_seed(2)
        assert not torch.equal(a, modelo(idx))


def test_admite_secuencias_de_context_length_tokens():
    modelo = _modelo_pequeno().eval()
    assert modelo(torch.zeros(1, 16, dtype=torch.long)).shape == (1, 16, 50257)
    assert modelo(torch.full((1, 3), 50256)).shape == (1, 3, 50257)  # el último id válido


# --- Errores en español ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("malo", [50257, 60000, -1])
def test_id_fuera_del_vocabulario(malo):
    modelo = _modelo_pequeno()
    with pytest.raises(ValueError, match=rf"fuera del vocabulario: {malo}\. Los ids válidos van de 0 a 50256"):
        modelo(torch.tensor([[1, 2, malo]]))


def test_fuera_de_la_cpu_no_lee_los_valores_de_los_ids(monkeypatch):
    """En una GPU, leer min() y max() obligaría a sincronizar en cada paso: fuera de la CPU no se leen. Se prueba con
    el dispositivo «meta» (tensores sin datos: leer un valor fallaría) y contando las llamadas en CPU."""
    with torch.device("meta"):
        modelo = GPTModel(CFG_DIMINUTA)
        ids = torch.zeros(2, 4, dtype=torch.long)
    assert modelo(ids).shape == (2, 4, 50257)
    with pytest.raises(ValueError, match="La secuencia tiene 17 tokens"):  # forma y dtype se siguen comprobando
        modelo(torch.zeros(1, 17, dtype=torch.long, device="meta"))
    lecturas = []
    original = torch.Tensor.min
    monkeypatch.setattr(torch.Tensor, "min", lambda self, *a, **k: lecturas.append(self.device.type) or original(self, *a, **k))
    _modelo_pequeno().eval()(torch.zeros(1, 3, dtype=torch.long))
    assert lecturas == ["cpu"]  # en CPU sí los mira


def test_secuencia_mas_larga_que_el_contexto():
    modelo = _modelo_pequeno()
    with pytest.raises(ValueError, match=r"La secuencia tiene 17 tokens, pero el modelo admite como máximo "
                                         r"context_length=16\. Recorta la entrada"):
        modelo(torch.zeros(1, 17, dtype=torch.long))


@pytest.mark.parametrize("entrada,forma", [(torch.tensor([1, 2, 3]), r"\(3,\)"), ([[1, 2, 3]], "list")])
def test_entrada_sin_dimension_de_lote(entrada, forma):
    modelo = _modelo_pequeno()
    with pytest.raises(ValueError, match=rf"espera un tensor de ids de forma \(lote, num_tokens\); ha recibido {forma}"):
        modelo(entrada)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bool, torch.int16, torch.int8, torch.uint8, torch.float64])
def test_ids_que_no_son_long_ni_int32(dtype):
    modelo = _modelo_pequeno()
    with pytest.raises(ValueError) as info:
        modelo(torch.ones(1, 3, dtype=dtype))
    assert str(info.value) == (
        f"Los ids de los tokens deben ser enteros torch.long (o torch.int32); se ha recibido dtype={dtype}. "
        "Conviértelos con .long()."
    )


def test_ids_int32_dan_lo_mismo_que_long():
    modelo = _modelo_pequeno().eval()
    ids = torch.tensor([[6109, 3626, 6100, 345]])
    torch.testing.assert_close(modelo(ids.int()), modelo(ids), rtol=0, atol=0)


def test_n_heads_que_no_divide_emb_dim_se_rechaza_al_construir():
    with pytest.raises(ValueError, match=r"debe ser divisible entre num_heads \(n_heads\): has pasado d_out=32 y "
                                         r"num_heads=3"):
        GPTModel({**CFG, "n_heads": 3})


# --- check_config: la configuración se comprueba antes de construir nada -------------------------------------------

CLAVES = "vocab_size, context_length, emb_dim, n_heads, n_layers, drop_rate, qkv_bias"


@pytest.mark.parametrize("falta", ["vocab_size", "n_layers", "qkv_bias"])
def test_falta_una_clave(falta):
    cfg = {k: v for k, v in CFG.items() if k != falta}
    with pytest.raises(ValueError) as info:
        GPTModel(cfg)
    assert str(info.value) == (
        f"A la configuración le faltan estas claves: {falta}. GPTModel necesita las 7 claves {CLAVES} "
        "(mira GPT_CONFIG_124M en seccion04_ImplementacionGPTGeneracionTexto/gptConfig124M.py)."
    )


def test_faltan_varias_claves_y_una_mal_escrita():
    cfg = {k: v for k, v in CFG.items() if k not in ("emb_dim", "n_layers")}
    cfg["n_layer"] = 2  # mal escrita: no cuenta
    with pytest.raises(ValueError, match=r"^A la configuración le faltan estas claves: emb_dim, n_layers\. "):
        GPTModel(cfg)


@pytest.mark.parametrize(
    ("clave", "valor", "mensaje"),
    [
        ("n_layers", -1, r'cfg\["n_layers"\] debe ser un entero mayor o igual que 1; has pasado -1 \(int\)\.'),
        ("n_layers", 0, r'cfg\["n_layers"\] debe ser un entero mayor o igual que 1; has pasado 0 \(int\)\.'),
        ("n_heads", 4.0, r'cfg\["n_heads"\] debe ser un entero mayor o igual que 1; has pasado 4\.0 \(float\)\.'),
        ("n_heads", 0, r'cfg\["n_heads"\] debe ser un entero mayor o igual que 1; has pasado 0 \(int\)\.'),
        ("emb_dim", 0, r'cfg\["emb_dim"\] debe ser un entero mayor o igual que 1; has pasado 0 \(int\)\.'),
        ("vocab_size", 0, r'cfg\["vocab_size"\] debe ser un entero mayor o igual que 1; has pasado 0 \(int\)\.'),
        ("vocab_size", "50257", r'cfg\["vocab_size"\] debe ser un entero .*; has pasado \'50257\' \(str\)\.'),
        ("context_length", 0, r'cfg\["context_length"\] debe ser un entero mayor o igual que 1; has pasado 0 \(int\)\.'),
        ("context_length", True, r'cfg\["context_length"\] debe ser un entero .*; has pasado True \(bool\)\.'),
        ("drop_rate", 1.5, r'cfg\["drop_rate"\] debe ser un número finito entre 0 y 1; has pasado 1\.5 \(float\)\.'),
        ("drop_rate", -0.1, r'cfg\["drop_rate"\] debe ser un número finito entre 0 y 1; has pasado -0\.1 \(float\)\.'),
        ("drop_rate", float("nan"), r'cfg\["drop_rate"\] debe ser un número finito entre 0 y 1; has pasado nan \(float\)\.'),
        ("drop_rate", "0.1", r'cfg\["drop_rate"\] debe ser un número finito entre 0 y 1; has pasado \'0\.1\' \(str\)\.'),
        ("qkv_bias", "False", r'cfg\["qkv_bias"\] debe ser True o False; has pasado \'False\' \(str\)\.'),
        ("qkv_bias", 0, r'cfg\["qkv_bias"\] debe ser True o False; has pasado 0 \(int\)\.'),
    ],
)
def test_valores_no_validos(clave, valor, mensaje):
    with pytest.raises(ValueError, match="^" + mensaje + "$"):
        GPTModel({**CFG, clave: valor})
    with pytest.raises(ValueError, match="^" + mensaje + "$"):
        check_config({**CFG, clave: valor})


def test_la_configuracion_no_es_un_diccionario():
    with pytest.raises(TypeError, match=r"^La configuración de GPTModel debe ser un diccionario .*; has pasado un list\."):
        GPTModel([("vocab_size", 50257)])


def test_check_config_acepta_las_configuraciones_del_curso():
    assert check_config(GPT_CONFIG_124M) is None
    assert check_config(CFG) is None
    assert check_config({**CFG, "drop_rate": 0, "qkv_bias": True, "otra_clave": 1}) is None  # las claves de más valen


def test_check_config_es_lo_primero_de_gpt_model():
    cuerpo = ast.parse(textwrap.dedent(inspect.getsource(GPTModel.__init__))).body[0].body
    assert ast.unparse(cuerpo[0]) == "check_config(cfg)"
