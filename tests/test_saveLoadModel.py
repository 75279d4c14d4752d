"""Pruebas de seccion05/saveLoadModel.py: guardar, cargar, reanudar exacto, errores y escritura atómica."""

import os
import pickle
import zipfile

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05 import saveLoadModel
from seccion05.calcLoss import calc_loss_batch
from seccion05.saveLoadModel import (
    atomic_save,
    check_state_dict_fits,
    load_checkpoint,
    load_torch_file,
    model_config,
    save_checkpoint,
)
from tests.configuraciones import CFG_DIMINUTA
from tests.escritorInterrumpido import escritor_a_medias

CFG_MINI = {**CFG_DIMINUTA, "vocab_size": 97}  # con dropout: el estado aleatorio importa al reanudar


def _modelo_y_optimizador(cfg=CFG_MINI):
    model = GPTModel(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.004, weight_decay=0.1)
    return model, optimizer


@pytest.fixture(scope="module")
def cargador():
    # 22 secuencias de 16 tokens al azar: 5 lotes de 4 por época, barajados (el último, incompleto, se descarta)
    ids = torch.randint(0, 97, (22, 17), generator=torch.Generator().manual_seed(0))
    return DataLoader(TensorDataset(ids[:, :-1], ids[:, 1:]), batch_size=4, shuffle=True, drop_last=True)


def _entrenar(model, optimizer, loader, num_epochs):
    """El bucle de train_model_simple, sin evaluaciones: cada época baraja de nuevo y aplica dropout."""
    model.train()
    for _ in range(num_epochs):
        for input_batch, target_batch in loader:
            optimizer.zero_grad()
            loss = calc_loss_batch(input_batch, target_batch, model, "cpu")
            loss.backward()
            optimizer.step()


def _iguales(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _estados_del_optimizador_iguales(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    if sa["param_groups"] != sb["param_groups"] or sa["state"].keys() != sb["state"].keys():
        return False
    return all(_iguales(sa["state"][k], sb["state"][k]) for k in sa["state"])


def test_guardar_y_cargar_state_dict(tmp_path):
    torch.manual_seed(123)
    model, _ = _modelo_y_optimizador()
    ruta = tmp_path / "model.pth"
    torch.save(model.state_dict(), ruta)
    torch.manual_seed(999)
    nuevo, _ = _modelo_y_optimizador()
    assert not _iguales(nuevo.state_dict(), model.state_dict())
    devuelto = load_checkpoint(ruta, nuevo)
    assert _iguales(nuevo.state_dict(), model.state_dict())
    assert set(devuelto) == {"model_state_dict"}


def test_punto_de_control_con_optimizador_y_configuracion(tmp_path, cargador):
    torch.manual_seed(123)
    model, optimizer = _modelo_y_optimizador()
    _entrenar(model, optimizer, cargador, 1)
    ruta = save_checkpoint(tmp_path / "ckpt.pth", model, optimizer, epoch=1)
    crudo = torch.load(ruta, weights_only=True)
    assert set(crudo) == {"model_state_dict", "optimizer_state_dict", "config", "epoch"}
    assert crudo["config"] == CFG_MINI  # leída del propio modelo
    assert model_config(model) == CFG_MINI

    nuevo, nuevo_opt = _modelo_y_optimizador()
    devuelto = load_checkpoint(ruta, nuevo, nuevo_opt)
    assert devuelto["epoch"] == 1
    assert _iguales(nuevo.state_dict(), model.state_dict())
    assert _estados_del_optimizador_iguales(nuevo_opt, optimizer)
    assert nuevo.training  # load_checkpoint no cambia el modo: eval() o train() lo decides tú


@pytest.mark.parametrize("restaurar", [True, False])
def test_reanudar_es_exacto_con_el_estado_aleatorio(tmp_path, cargador, restaurar):
    n, m = 2, 2  # épocas antes y después de guardar (5 pasos cada una)

    # De una vez: N + M épocas
    torch.manual_seed(123)
    de_una_vez, opt_una_vez = _modelo_y_optimizador()
    _entrenar(de_una_vez, opt_una_vez, cargador, n + m)

    # En dos tramos: N épocas, guardar, objetos nuevos, cargar y M épocas más
    torch.manual_seed(123)
    model, optimizer = _modelo_y_optimizador()
    _entrenar(model, optimizer, cargador, n)
    ruta = save_checkpoint(tmp_path / "reanudar.pth", model, optimizer, save_rng_state=True)
    del model, optimizer
    torch.manual_seed(2024)  # otra sesión: el generador aleatorio está en cualquier otro estado
    reanudado, opt_reanudado = _modelo_y_optimizador()
    load_checkpoint(ruta, reanudado, opt_reanudado, restore_rng_state=restaurar)
    _entrenar(reanudado, opt_reanudado, cargador, m)

    if restaurar:
        assert _iguales(reanudado.state_dict(), de_una_vez.state_dict())
        assert _estados_del_optimizador_iguales(opt_reanudado, opt_una_vez)
    else:  # sin el estado aleatorio, el dropout y el barajado cambian: los pesos ya no son los mismos
        assert not _iguales(reanudado.state_dict(), de_una_vez.state_dict())


def test_restaurar_sin_estado_aleatorio_da_error(tmp_path):
    model, optimizer = _modelo_y_optimizador()
    ruta = save_checkpoint(tmp_path / "sin_rng.pth", model, optimizer)
    with pytest.raises(ValueError, match="no guarda el estado aleatorio"):
        load_checkpoint(ruta, model, restore_rng_state=True)


def test_optimizador_sin_estado_guardado_da_error(tmp_path):
    model, optimizer = _modelo_y_optimizador()
    ruta = save_checkpoint(tmp_path / "solo_modelo.pth", model)
    with pytest.raises(ValueError, match="no guarda el estado del optimizador"):
        load_checkpoint(ruta, model, optimizer)


def test_configuracion_distinta_nombra_los_tamanos(tmp_path):
    torch.manual_seed(0)
    model, _ = _modelo_y_optimizador()
    ruta = save_checkpoint(tmp_path / "ckpt.pth", model)
    otro, _ = _modelo_y_optimizador({**CFG_MINI, "context_length": 32, "emb_dim": 64})
    with pytest.raises(ValueError, match=r"context_length=16 \(tu modelo: 32\), emb_dim=32 \(tu modelo: 64\)"):
        load_checkpoint(ruta, otro)
    # drop_rate no cambia ninguna forma: cargar en un modelo sin dropout funciona
    sin_dropout, _ = _modelo_y_optimizador({**CFG_MINI, "drop_rate": 0.0})
    load_checkpoint(ruta, sin_dropout)
    assert _iguales(sin_dropout.state_dict(), model.state_dict())


def test_state_dict_sin_configuracion_nombra_las_formas(tmp_path):
    model, _ = _modelo_y_optimizador()
    ruta = tmp_path / "model.pth"
    torch.save(model.state_dict(), ruta)
    otro, _ = _modelo_y_optimizador({**CFG_MINI, "context_length": 32})
    with pytest.raises(ValueError, match=r"pos_emb.weight: punto de control \(16, 32\), modelo \(32, 32\)"):
        load_checkpoint(ruta, otro)
    mas_capas, _ = _modelo_y_optimizador({**CFG_MINI, "n_layers": 3})
    with pytest.raises(ValueError, match=r"faltan \d+ tensores \(el primero, trf_blocks.2"):
        check_state_dict_fits(model.state_dict(), mas_capas)
    con_sesgo, _ = _modelo_y_optimizador({**CFG_MINI, "qkv_bias": True})
    with pytest.raises(ValueError, match=r"qkv_bias=False \(tu modelo: True\)"):
        check_state_dict_fits(model.state_dict(), con_sesgo, model_config(model))


def test_archivo_que_no_existe(tmp_path):
    model, _ = _modelo_y_optimizador()
    with pytest.raises(FileNotFoundError, match="No existe el punto de control"):
        load_checkpoint(tmp_path / "no_esta.pth", model)


class _Malicioso:
    """Un objeto que, al deserializarse con pickle, ejecuta código (aquí, algo inofensivo)."""

    def __reduce__(self):
        return (os.getcwd, ())


def test_un_pickle_con_codigo_no_se_carga(tmp_path):
    ruta = tmp_path / "sospechoso.pth"
    torch.save({"model_state_dict": _Malicioso()}, ruta)
    model, _ = _modelo_y_optimizador()
    with pytest.raises(ValueError, match="contiene objetos de Python que no son pesos") as info:
        load_checkpoint(ruta, model)
    assert isinstance(info.value.__cause__, pickle.UnpicklingError)


def test_guardado_atomico_conserva_el_archivo_anterior(tmp_path):
    torch.manual_seed(1)
    model, optimizer = _modelo_y_optimizador()
    ruta = save_checkpoint(tmp_path / "ckpt.pth", model, optimizer)
    antes = ruta.read_bytes()

    # Un guardado que falla a medias: torch.save ya ha escrito el modelo cuando llega a la lambda, que no
    # se puede serializar
    with pytest.raises(Exception, match="lambda"):
        save_checkpoint(ruta, model, optimizer, extra=lambda: 0)
    assert ruta.read_bytes() == antes  # el archivo bueno sigue intacto
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.pth"]  # y no queda ningún temporal


def test_guardado_atomico_ante_una_interrupcion(tmp_path, monkeypatch):
    ruta = atomic_save({"x": torch.arange(3)}, tmp_path / "datos.pth")
    antes = ruta.read_bytes()
    escrito = {}

    def save_interrumpido(obj, f):
        f.write(b"PK\x03\x04 medio archivo")  # empieza a escribir...
        escrito["carpeta"] = sorted(p.name for p in tmp_path.iterdir())
        raise KeyboardInterrupt  # ...y el usuario pulsa Ctrl+C

    monkeypatch.setattr(saveLoadModel.torch, "save", save_interrumpido)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"x": torch.arange(5)}, ruta)
    assert ruta.read_bytes() == antes
    temporal = [n for n in escrito["carpeta"] if n != "datos.pth"]  # se escribía en otro archivo...
    assert len(temporal) == 1 and temporal[0].startswith(f".datos.pth.{os.getpid()}.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["datos.pth"]  # ...que ya se ha borrado


def test_guardado_ingenuo_si_destruye_el_archivo(tmp_path):
    """Contraste: con torch.save directo sobre la ruta, un fallo a medias deja un archivo roto."""
    ruta = tmp_path / "ingenuo.pth"
    torch.save({"x": torch.arange(3)}, ruta)
    with pytest.raises(Exception, match="lambda"):
        torch.save({"x": torch.arange(3), "f": lambda: 0}, ruta)
    with pytest.raises(Exception):  # noqa: B017 - el tipo exacto depende de la versión de PyTorch
        torch.load(ruta, weights_only=True)


@pytest.mark.skipif(os.name != "posix", reason="umask de POSIX")
def test_atomic_save_permisos_normales(tmp_path):
    anterior = os.umask(0o022)
    try:
        ruta = atomic_save({"x": torch.ones(2)}, tmp_path / "datos.pth")
    finally:
        os.umask(anterior)
    assert ruta.stat().st_mode & 0o777 == 0o644  # los de cualquier archivo, no el 0600 de tempfile.mkstemp


def test_crea_la_carpeta(tmp_path):
    ruta = atomic_save({"x": torch.ones(2)}, tmp_path / "a" / "b" / "datos.pth")
    assert torch.equal(torch.load(ruta, weights_only=True)["x"], torch.ones(2))


# ---------------------------------------------------------------------------------------------------------------
# load_torch_file: cada forma en que un archivo malo hace fallar a torch.load, en español y nombrando el archivo


@pytest.fixture(scope="module")
def bueno(tmp_path_factory):
    ruta = tmp_path_factory.mktemp("bueno") / "bueno.pth"
    torch.save({"w": torch.arange(4000, dtype=torch.float32)}, ruta)  # 16 000 bytes de datos: el centro es de datos
    return ruta


def _archivo_malo(caso: str, carpeta, bueno):
    """Crea en `carpeta` un archivo estropeado de la forma `caso` y devuelve su ruta."""
    ruta = carpeta / f"{caso}.pth"
    datos = bytearray(bueno.read_bytes())
    if caso == "vacio":
        ruta.write_bytes(b"")
    elif caso == "cortado":
        ruta.write_bytes(datos[: len(datos) // 2])
    elif caso in ("danado_en_medio", "danado_al_principio"):
        inicio = len(datos) // 2 if caso == "danado_en_medio" else 40
        for i in range(inicio, inicio + 64):
            datos[i] ^= 0xFF
        ruta.write_bytes(bytes(datos))
    elif caso == "texto":
        ruta.write_text("Esto no son pesos.\n", encoding="utf-8")
    elif caso == "zip_ajeno":
        with zipfile.ZipFile(ruta, "w") as z:
            z.writestr("notas.txt", "hola")
    elif caso == "carpeta":
        ruta.mkdir()
    return ruta


_CASOS_MALOS = {
    "vacio": "está vacío",
    "cortado": "está incompleto o dañado",
    "danado_en_medio": "está dañado",
    "danado_al_principio": "dañado",  # según qué bytes, «incompleto o dañado» o «dañado»
    "texto": "no es un archivo guardado con torch.save",
    "zip_ajeno": "es un archivo zip, pero no uno guardado con torch.save",
    "carpeta": "es una carpeta",
}


@pytest.mark.parametrize("mmap", [False, True], ids=["sin_mmap", "mmap"])
@pytest.mark.parametrize("caso", list(_CASOS_MALOS))
def test_archivo_malo_da_un_error_en_espanol(tmp_path, bueno, caso, mmap):
    ruta = _archivo_malo(caso, tmp_path, bueno)
    with pytest.raises(ValueError) as info:
        load_torch_file(ruta, map_location="cpu", mmap=mmap)
    mensaje = str(info.value)
    assert _CASOS_MALOS[caso] in mensaje
    assert str(ruta) in mensaje  # nombra el archivo
    assert "weights_only" not in mensaje and "PytorchStreamReader" not in mensaje


def test_lo_danado_en_medio_se_nota_aunque_torch_load_no_lo_vea(tmp_path, bueno):
    """Contraste: torch.load no comprueba las sumas CRC-32 del zip y devuelve datos cambiados sin avisar."""
    ruta = _archivo_malo("danado_en_medio", tmp_path, bueno)
    cargado = torch.load(ruta, weights_only=True)
    assert not torch.equal(cargado["w"], torch.arange(4000, dtype=torch.float32))
    with pytest.raises(ValueError, match="no coinciden con su suma de comprobación"):
        load_torch_file(ruta)


@pytest.mark.parametrize("mmap", [False, True], ids=["sin_mmap", "mmap"])
def test_archivo_bueno(bueno, mmap):
    cargado = load_torch_file(bueno, map_location="cpu", mmap=mmap)
    assert torch.equal(cargado["w"], torch.arange(4000, dtype=torch.float32))


def test_archivo_que_no_existe_en_espanol(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No existe el archivo .*no_esta\.pth"):
        load_torch_file(tmp_path / "no_esta.pth")


def test_formato_antiguo_sin_zip(tmp_path):
    ruta = tmp_path / "antiguo.pth"
    torch.save({"w": torch.ones(3)}, ruta, _use_new_zipfile_serialization=False)
    assert torch.equal(load_torch_file(ruta)["w"], torch.ones(3))  # sin mmap se puede leer
    with pytest.raises(ValueError, match=r"formato antiguo de torch.save.*mmap=True"):
        load_torch_file(ruta, map_location="cpu", mmap=True)


@pytest.mark.parametrize("mmap", [False, True], ids=["sin_mmap", "mmap"])
def test_pickle_con_objetos(tmp_path, mmap):
    ruta = tmp_path / "sospechoso.pth"
    torch.save({"x": _Malicioso()}, ruta)
    with pytest.raises(ValueError, match="contiene objetos de Python que no son pesos") as info:
        load_torch_file(ruta, mmap=mmap)
    assert isinstance(info.value.__cause__, pickle.UnpicklingError)


# ---------------------------------------------------------------------------------------------------------------
# load_checkpoint: todo o nada


def _pesos(model) -> dict:
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.fixture
def guardado(tmp_path, cargador):
    """Un punto de control con optimizador (tras una época, así AdamW tiene exp_avg) y estado aleatorio."""
    torch.manual_seed(123)
    model, optimizer = _modelo_y_optimizador()
    _entrenar(model, optimizer, cargador, 1)
    return save_checkpoint(tmp_path / "ckpt.pth", model, optimizer, save_rng_state=True)


def test_archivo_malo_en_load_checkpoint(tmp_path, bueno):
    ruta = _archivo_malo("cortado", tmp_path, bueno)
    model, _ = _modelo_y_optimizador()
    with pytest.raises(ValueError, match=f"{ruta}.*está incompleto o dañado"):
        load_checkpoint(ruta, model)


@pytest.mark.parametrize("objeto", [torch.zeros(3), {"a": 1}, [torch.zeros(3)], {"model_state_dict": [1, 2]}],
                         ids=["tensor", "dict_sin_tensores", "lista", "model_state_dict_no_es_dict"])
def test_lo_que_no_es_un_punto_de_control(tmp_path, objeto):
    ruta = tmp_path / "otra_cosa.pth"
    torch.save(objeto, ruta)
    model, _ = _modelo_y_optimizador()
    antes = _pesos(model)
    with pytest.raises(ValueError, match=f"{ruta} no es un punto de control del curso"):
        load_checkpoint(ruta, model)
    assert _iguales(model.state_dict(), antes)


def test_optimizador_con_otros_grupos_no_toca_el_modelo(guardado):
    torch.manual_seed(999)
    model, _ = _modelo_y_optimizador()
    antes = _pesos(model)
    con_decaimiento = [p for p in model.parameters() if p.dim() >= 2]
    sin_decaimiento = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": con_decaimiento}, {"params": sin_decaimiento, "weight_decay": 0.0}])
    with pytest.raises(ValueError, match=r"El estado del optimizador guardado en .* tiene 1 grupo de parámetros y "
                                         r"tu optimizador 2"):
        load_checkpoint(guardado, model, optimizer)
    assert _iguales(model.state_dict(), antes)  # el modelo no se ha tocado
    assert optimizer.state_dict()["state"] == {}


def test_optimizador_con_otras_formas_no_toca_nada(guardado, tmp_path):
    checkpoint = torch.load(guardado, weights_only=True)
    estado = checkpoint["optimizer_state_dict"]["state"]
    estado[0]["exp_avg"] = torch.zeros(3, 3)  # el parámetro 0 es tok_emb.weight, de (97, 32)
    ruta = tmp_path / "optimizador_roto.pth"
    torch.save(checkpoint, ruta)
    torch.manual_seed(999)
    model, optimizer = _modelo_y_optimizador()
    antes = _pesos(model)
    with pytest.raises(ValueError, match=r"exp_avg del parámetro 0 \(tok_emb.weight\) tiene forma \(3, 3\) y el "
                                         r"parámetro \(97, 32\)"):
        load_checkpoint(ruta, model, optimizer)
    assert _iguales(model.state_dict(), antes)
    assert optimizer.state_dict()["state"] == {}


def test_optimizador_con_otro_numero_de_parametros(guardado):
    torch.manual_seed(999)
    model, _ = _modelo_y_optimizador()
    antes = _pesos(model)
    optimizer = torch.optim.AdamW(list(model.parameters())[:-1])
    with pytest.raises(ValueError, match=r"el grupo 0 tiene \d+ parámetros guardados y \d+ en tu optimizador"):
        load_checkpoint(guardado, model, optimizer)
    assert _iguales(model.state_dict(), antes)


@pytest.mark.parametrize("falta", ["optimizer_state_dict", "rng_state"])
def test_lo_que_falta_se_dice_antes_de_cargar_nada(guardado, tmp_path, falta):
    checkpoint = torch.load(guardado, weights_only=True)
    del checkpoint[falta]
    ruta = tmp_path / "incompleto.pth"
    torch.save(checkpoint, ruta)
    torch.manual_seed(999)
    model, optimizer = _modelo_y_optimizador()
    antes = _pesos(model)
    estado_aleatorio = torch.get_rng_state()
    with pytest.raises(ValueError, match="no guarda el estado"):
        load_checkpoint(ruta, model, optimizer, restore_rng_state=True)
    assert _iguales(model.state_dict(), antes)
    assert optimizer.state_dict()["state"] == {}
    assert torch.equal(torch.get_rng_state(), estado_aleatorio)


def test_estado_aleatorio_que_no_es_valido(guardado, tmp_path):
    checkpoint = torch.load(guardado, weights_only=True)
    checkpoint["rng_state"] = torch.zeros(3)  # float32: torch.set_rng_state lo rechazaría en inglés
    ruta = tmp_path / "rng_roto.pth"
    torch.save(checkpoint, ruta)
    model, optimizer = _modelo_y_optimizador()
    antes = _pesos(model)
    with pytest.raises(ValueError, match="el estado aleatorio guardado en .* no es válido"):
        load_checkpoint(ruta, model, optimizer, restore_rng_state=True)
    assert _iguales(model.state_dict(), antes)


@pytest.mark.skipif(os.name != "posix", reason="usa SIGKILL")
def test_un_guardado_matado_con_sigkill_no_deja_huerfanos_al_cargar(guardado):
    antes = guardado.read_bytes()
    with escritor_a_medias(guardado, "PK medio punto de control"):
        pass
    assert len(list(guardado.parent.iterdir())) == 2  # el bueno y el temporal huérfano
    assert guardado.read_bytes() == antes

    model, optimizer = _modelo_y_optimizador()
    load_checkpoint(guardado, model, optimizer)  # carga el último bueno...
    assert [p.name for p in guardado.parent.iterdir()] == ["ckpt.pth"]  # ...y limpia el huérfano
