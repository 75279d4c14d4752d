"""Entrenamiento simple de un GPT: bucle de entrenamiento, evaluación periódica, muestras de texto,
curvas de pérdida y el punto de control con el modelo entrenado sobre «The Verdict».

Es el bucle del libro, paso a paso y sin trucos: con la misma semilla, los mismos cargadores de datos
y el mismo optimizador, da exactamente las mismas pérdidas que el código de referencia del libro.

`load_verdict_model()` da a los cuadernos 3 a 5 el modelo que entrena el cuaderno 2; si no lo encuentra, lo entrena
con `train_verdict_model()` (los mismos pasos que el cuaderno 2, o un modelo pequeño en el modo clase).

Se explica en: seccion05/2_entrenando_llm.ipynb
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.ticker import MaxNLocator

from imgs.figuras.estilo import ESTILO_GRAFICAS
from seccion02_TrabajarDatosTexto.checkArgs import check_int
from seccion02_TrabajarDatosTexto.dataloader_v1 import create_dataloader_v1
from seccion02_TrabajarDatosTexto.theVerdict import load_the_verdict
from seccion02_TrabajarDatosTexto.tokenizerGPT2 import get_tokenizer
from seccion04_ImplementacionGPTGeneracionTexto.generateTextSimple import generate_text_simple
from seccion04_ImplementacionGPTGeneracionTexto.getDevice import get_device
from seccion04_ImplementacionGPTGeneracionTexto.gptConfig124M import GPT_CONFIG_124M
from seccion04_ImplementacionGPTGeneracionTexto.gptModel import GPTModel
from seccion05.calcLoss import calc_loss_batch, calc_loss_loader, text_to_token_ids, token_ids_to_text
from seccion05.modelsDir import models_dir
from seccion05.saveLoadModel import atomic_save, load_torch_file

# La configuración con la que el cuaderno 2 entrena el modelo: GPT-2 124M con un contexto de 256 tokens.
VERDICT_CONFIG = {**GPT_CONFIG_124M, "context_length": 256}

# El modo clase (variable de entorno LLM_MODO_CLASE=1): si falta el modelo del cuaderno 2, se entrena este otro,
# mucho más pequeño, en lugar del de 124M. Mismo vocabulario y mismo contexto, para que los cuadernos funcionen igual.
CLASS_MODE_ENV = "LLM_MODO_CLASE"
CLASS_CONFIG = {
    "vocab_size": 50257,  # el vocabulario de GPT-2
    "context_length": 256,  # el mismo contexto que VERDICT_CONFIG
    "emb_dim": 128,  # dimensión de los embeddings (768 en el de 124M)
    "n_heads": 4,  # cabezas de atención
    "n_layers": 4,  # bloques transformer (12 en el de 124M)
    "drop_rate": 0.1,  # tasa de dropout
    "qkv_bias": False,  # sin sesgo en consulta, clave y valor
}
VERDICT_MODEL_NAME = "gpt_verdict.pth"  # el modelo del cuaderno 2
CLASS_MODEL_NAME = "gpt_verdict_clase.pth"  # el del modo clase


def verdict_model_path() -> Path:
    """Dónde guarda el cuaderno 2 el modelo entrenado: `gpt_verdict.pth` en la carpeta de modelos (`models_dir()`)."""
    return models_dir() / VERDICT_MODEL_NAME


def class_mode() -> bool:
    """True si está activo el modo clase: la variable de entorno LLM_MODO_CLASE vale 1 (o cualquier cosa salvo 0)."""
    return os.environ.get(CLASS_MODE_ENV, "").strip() not in ("", "0")


def evaluate_model(model, train_loader, val_loader, device, eval_iter):
    """Pérdida media de los primeros `eval_iter` lotes de entrenamiento y de validación: (float, float).

    Evalúa en modo evaluación (sin dropout) y sin gradientes, y deja el modelo en modo entrenamiento.
    Se explica en: seccion05/2_entrenando_llm.ipynb
    """
    model.eval()  # sin dropout: la pérdida medida es la del modelo tal cual
    with torch.no_grad():  # no hace falta guardar el grafo para la retropropagación
        train_loss = calc_loss_loader(train_loader, model, device, num_batches=eval_iter)
        val_loss = calc_loss_loader(val_loader, model, device, num_batches=eval_iter)
    model.train()  # vuelve al modo entrenamiento
    return train_loss, val_loss


def generate_and_print_sample(model, tokenizer, device, start_context):
    """Imprime en una línea `start_context` seguido de 50 tokens generados de forma voraz.

    Se explica en: seccion05/2_entrenando_llm.ipynb
    """
    model.eval()
    context_size = model.pos_emb.weight.shape[0]  # longitud de contexto del modelo
    encoded = text_to_token_ids(start_context, tokenizer).to(device)  # (1, num_tokens)
    with torch.no_grad():
        token_ids = generate_text_simple(model=model, idx=encoded, max_new_tokens=50, context_size=context_size)
    decoded_text = token_ids_to_text(token_ids, tokenizer)
    print(decoded_text.replace("\n", " "))  # en una sola línea, más compacto
    model.train()


def check_training_args(train_loader, num_epochs, eval_freq, eval_iter, start_context, tokenizer) -> None:
    """Comprueba los argumentos de `train_model_simple` antes de entrenar, con errores en español.

    Un argumento equivocado debe fallar al principio, no tras una época entera de entrenamiento.
    """
    check_int("num_epochs", num_epochs, minimum=1)
    check_int("eval_freq (evalúa cada eval_freq pasos)", eval_freq, minimum=1)
    check_int("eval_iter (lotes por evaluación)", eval_iter, minimum=1, allow_none=True)
    if not isinstance(start_context, str) or not start_context.strip():
        raise ValueError(
            f"start_context debe ser un texto no vacío con el que empiezan las muestras (por ejemplo "
            f"\"Every effort moves you\"); has pasado {start_context!r}."
        )
    if not (callable(getattr(tokenizer, "encode", None)) and callable(getattr(tokenizer, "decode", None))):
        raise TypeError(
            f"tokenizer debe tener los métodos encode y decode (por ejemplo, get_tokenizer()); has pasado "
            f"{type(tokenizer).__name__}."
        )
    if len(train_loader) == 0:
        raise ValueError(
            "El cargador de entrenamiento no tiene ningún lote: no hay nada con qué entrenar. "
            "Usa un texto más largo, un batch_size menor o drop_last=False."
        )


def train_model_simple(
    model,
    train_loader,
    val_loader,
    optimizer,
    device,
    num_epochs: int,
    eval_freq: int,
    eval_iter: int,
    start_context: str,
    tokenizer,
) -> tuple[list[float], list[float], list[int]]:
    """Entrena `model` durante `num_epochs` épocas y devuelve (train_losses, val_losses, track_tokens_seen).

    Cada `eval_freq` pasos (empezando por el paso 0) evalúa con `eval_iter` lotes de cada cargador,
    guarda las dos pérdidas y los tokens vistos hasta entonces, e imprime una línea; al final de cada
    época imprime una muestra de texto que continúa `start_context`.
    Se explica en: seccion05/2_entrenando_llm.ipynb
    """
    check_training_args(train_loader, num_epochs, eval_freq, eval_iter, start_context, tokenizer)  # antes de empezar

    # Listas para seguir las pérdidas y los tokens vistos
    train_losses, val_losses, track_tokens_seen = [], [], []
    tokens_seen, global_step = 0, -1

    for epoch in range(num_epochs):
        model.train()  # modo entrenamiento: dropout activo

        for input_batch, target_batch in train_loader:
            optimizer.zero_grad()  # borra los gradientes del paso anterior
            loss = calc_loss_batch(input_batch, target_batch, model, device)
            loss.backward()  # retropropagación: calcula los gradientes
            optimizer.step()  # actualiza los pesos con esos gradientes
            tokens_seen += input_batch.numel()  # batch_size × longitud de contexto
            global_step += 1

            # Evaluación periódica (pasos 0, eval_freq, 2·eval_freq, ...)
            if global_step % eval_freq == 0:
                train_loss, val_loss = evaluate_model(model, train_loader, val_loader, device, eval_iter)
                train_losses.append(train_loss)
                val_losses.append(val_loss)
                track_tokens_seen.append(tokens_seen)
                print(
                    f"Época {epoch + 1}/{num_epochs} (paso {global_step:06d}): "
                    f"pérdida de entrenamiento {train_loss:.3f}, de validación {val_loss:.3f}"
                )

        # Una muestra de texto al final de cada época
        generate_and_print_sample(model, tokenizer, device, start_context)

    return train_losses, val_losses, track_tokens_seen


def plot_losses(epochs_seen, tokens_seen, train_losses, val_losses):
    """Dibuja las pérdidas de entrenamiento y de validación frente a las épocas (eje inferior)
    y a los tokens vistos (eje superior). Devuelve la figura de matplotlib.

    Se explica en: seccion05/2_entrenando_llm.ipynb
    """
    with plt.rc_context(ESTILO_GRAFICAS):  # el estilo de las figuras del curso, solo para esta figura
        fig, ax1 = plt.subplots(figsize=(6, 3.5))

        # Pérdidas frente a las épocas
        ax1.plot(epochs_seen, train_losses, label="Pérdida de entrenamiento")
        ax1.plot(epochs_seen, val_losses, linestyle="-.", label="Pérdida de validación")
        ax1.set_xlabel("Épocas")
        ax1.set_ylabel("Pérdida")
        ax1.legend(loc="upper right")
        ax1.xaxis.set_major_locator(MaxNLocator(integer=True))  # solo épocas enteras en el eje

        # Segundo eje x, arriba, con los tokens vistos
        ax2 = ax1.twiny()  # comparte el eje y
        ax2.spines["top"].set_visible(True)  # el estilo oculta el borde de arriba; aquí lleva un eje
        ax2.plot(tokens_seen, train_losses, alpha=0)  # curva invisible: solo sirve para alinear las marcas
        ax2.set_xlabel("Tokens vistos")
        ax2.grid(False)  # una sola rejilla, la de las épocas

        fig.tight_layout()
    return fig


def save_verdict_model(model, optimizer, config: dict, path: str | os.PathLike | None = None) -> Path:
    """Guarda {"model_state_dict", "optimizer_state_dict", "config"} en `path` (por defecto
    `verdict_model_path()`, es decir, seccion05/modelos/gpt_verdict.pth) de forma atómica y devuelve la ruta.

    `atomic_save` escribe en un archivo temporal de la misma carpeta, lo fuerza a disco y solo al final lo
    renombra: si algo falla a mitad, el archivo anterior (si lo había) sigue intacto.
    Se explica en: seccion05/2_entrenando_llm.ipynb (y atomic_save, en 4_guardar_y_cargar_pesos.ipynb)
    """
    path = Path(path) if path is not None else verdict_model_path()
    checkpoint = {
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "config": dict(config),
    }
    return atomic_save(checkpoint, path)


def verdict_checkpoint_path() -> Path:
    """La ruta del modelo de «The Verdict» que usan los cuadernos 3 a 5, entrenándolo antes si no existe.

    - Si está el del cuaderno 2 (`verdict_model_path()`), ese.
    - Si no, en el modo clase (LLM_MODO_CLASE=1), el modelo pequeño `gpt_verdict_clase.pth`, que se entrena la
      primera vez (alrededor de un minuto en la CPU de un portátil).
    - Si no, entrena el de 124M con los mismos pasos que el cuaderno 2 (`train_verdict_model()`): los mismos pesos
      que si hubieras ejecutado ese cuaderno en este equipo.
    """
    ruta = verdict_model_path()
    if ruta.is_file():
        return ruta
    if class_mode():
        ruta_clase = models_dir() / CLASS_MODEL_NAME
        return ruta_clase if ruta_clase.is_file() else train_verdict_model(small=True)
    return train_verdict_model()


def train_verdict_model(small: bool = False, device: str | torch.device | None = None,
                        path: str | os.PathLike | None = None) -> Path:
    """Entrena el modelo de «The Verdict» como el cuaderno 2, lo guarda y devuelve la ruta.

    Los mismos datos (90 % para entrenar), semilla (123), optimizador (AdamW, lr 0.0004, weight_decay 0.1) y
    10 épocas que el cuaderno 2. `small=True` usa `CLASS_CONFIG` (el modo clase) en lugar de `VERDICT_CONFIG` y lo
    guarda como `gpt_verdict_clase.pth`. Muestra una barra de progreso con el tiempo que falta; las líneas de
    `train_model_simple` se resumen al final en una.
    """
    from tqdm.auto import tqdm

    cfg = CLASS_CONFIG if small else VERDICT_CONFIG
    path = Path(path) if path is not None else models_dir() / (CLASS_MODEL_NAME if small else VERDICT_MODEL_NAME)
    device = torch.device(device) if device is not None else get_device()
    if small:
        print(
            f"Modo clase ({CLASS_MODE_ENV}=1): no está el modelo del cuaderno 2, así que entreno un GPT pequeño "
            f"({cfg['n_layers']} bloques, emb_dim={cfg['emb_dim']}) con «The Verdict»: alrededor de un minuto en la "
            "CPU de un portátil. Sus resultados no serán los que muestra el cuaderno, que salen del modelo de 124M."
        )
    else:
        print(
            f"No encuentro el modelo del cuaderno 2 en {path}. Lo entreno ahora con los mismos pasos que ese "
            "cuaderno (GPT de 124M, 10 épocas con «The Verdict»): entre 7 y 9 minutos en una CPU de dos núcleos, menos "
            f"con GPU. Para un modelo pequeño que se entrena en un minuto, define {CLASS_MODE_ENV}=1 antes de abrir "
            "Jupyter."
        )

    tokenizer = get_tokenizer()
    text_data = load_the_verdict()
    split_idx = int(0.90 * len(text_data))
    train_loader = create_dataloader_v1(
        text_data[:split_idx], batch_size=2, max_length=256, stride=256, drop_last=True, shuffle=True, num_workers=0
    )
    val_loader = create_dataloader_v1(
        text_data[split_idx:], batch_size=2, max_length=256, stride=256, drop_last=False, shuffle=False, num_workers=0
    )
    num_epochs = 10

    torch.manual_seed(123)  # como el cuaderno 2: mismos pesos iniciales, mismo orden de lotes, mismo dropout
    model = GPTModel(cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=0.1)
    barra = tqdm(total=num_epochs * len(train_loader), desc="Entrenando", unit="paso")
    gancho = optimizer.register_step_post_hook(lambda *_: barra.update(1))  # la barra avanza en cada paso
    inicio = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # sin las 30 líneas de train_model_simple
            train_losses, val_losses, _ = train_model_simple(
                model, train_loader, val_loader, optimizer, device, num_epochs=num_epochs, eval_freq=5, eval_iter=5,
                start_context="Every effort moves you", tokenizer=tokenizer,
            )
    finally:
        gancho.remove()
        barra.close()
    save_verdict_model(model, optimizer, cfg, path)
    print(
        f"Entrenado en {time.perf_counter() - inicio:.0f} s: pérdida de entrenamiento {train_losses[-1]:.3f}, de "
        f"validación {val_losses[-1]:.3f}. Guardado en {path}."
    )
    return path


def load_verdict_model(path: str | os.PathLike | None = None, device: str | torch.device | None = None) -> GPTModel:
    """Devuelve el GPTModel entrenado en 2_entrenando_llm.ipynb, en modo evaluación y en `device`
    (por defecto, el de `get_device()`).

    Sin `path`, usa `verdict_checkpoint_path()`: si el modelo del cuaderno 2 no está, lo entrena primero (o, en el
    modo clase, entrena uno pequeño) y lo dice. Con `path`, carga ese archivo y nada más.
    Se explica en: seccion05/2_entrenando_llm.ipynb (lo usan los cuadernos siguientes de la sección 5)
    """
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(
                f"No encuentro el modelo entrenado en {path}. Comprueba la ruta, o llama a load_verdict_model() sin "
                "ruta: usa el modelo del cuaderno seccion05/2_entrenando_llm.ipynb y, si no está, lo entrena."
            )
    else:
        path = verdict_checkpoint_path()
    if path.name == CLASS_MODEL_NAME:
        print(f"Modo clase: uso el GPT pequeño de {path.name}, no el de 124M del cuaderno 2.")
    device = torch.device(device) if device is not None else get_device()
    # weights_only=True: solo tensores y tipos básicos, nunca código arbitrario.
    # mmap=True: del disco solo se leen los tensores que se usan (los pesos, no el estado del optimizador).
    checkpoint = load_torch_file(path, map_location="cpu", mmap=True)
    model = GPTModel(checkpoint["config"])
    model.load_state_dict(checkpoint["model_state_dict"])
    model.to(device)
    model.eval()
    return model
