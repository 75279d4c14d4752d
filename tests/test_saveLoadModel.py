"""Pruebas de seccion05/saveLoadModel.py: guardar, cargar, reanudar exacto, errores y escritura atómica."""

import os
import pickle

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
    model_config,
    save_checkpoint,
)
from tests.configuraciones import CFG_DIMINUTA
from tests.cuadernos import assert_misma_definicion

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
        escrito["temporal"] = f.name
        raise KeyboardInterrupt  # ...y el usuario pulsa Ctrl+C

    monkeypatch.setattr(saveLoadModel.torch, "save", save_interrumpido)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"x": torch.arange(5)}, ruta)
    assert ruta.read_bytes() == antes
    assert escrito["temporal"] != str(ruta)  # se escribía en otro archivo...
    assert sorted(p.name for p in tmp_path.iterdir()) == ["datos.pth"]  # ...que ya se ha borrado


def test_guardado_ingenuo_si_destruye_el_archivo(tmp_path):
    """Contraste: con torch.save directo sobre la ruta, un fallo a medias deja un archivo roto."""
    ruta = tmp_path / "ingenuo.pth"
    torch.save({"x": torch.arange(3)}, ruta)
    with pytest.raises(Exception, match="lambda"):
        torch.save({"x": torch.arange(3), "f": lambda: 0}, ruta)
    with pytest.raises(Exception):  # noqa: B017 - el tipo exacto depende de la versión de PyTorch
        torch.load(ruta, weights_only=True)


def test_crea_la_carpeta(tmp_path):
    ruta = atomic_save({"x": torch.ones(2)}, tmp_path / "a" / "b" / "datos.pth")
    assert torch.equal(torch.load(ruta, weights_only=True)["x"], torch.ones(2))


def test_el_cuaderno_define_la_misma_atomic_save():
    assert_misma_definicion("seccion05/4_guardar_y_cargar_pesos.ipynb", atomic_save)
