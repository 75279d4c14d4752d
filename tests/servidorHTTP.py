"""Servidor HTTP local (127.0.0.1, en un hilo) para probar las descargas sin salir del equipo.

Sirve unos bytes en cualquier ruta y se puede configurar para imitar los problemas de una descarga real:
sin soporte de reanudación (cabecera Range), sin Content-Length, anunciando otro tamaño o cortando la conexión a
mitad de la respuesta. Guarda la cabecera Range de cada petición en `peticiones`. No es para producción.

`RespuestaQueSeCorta` es lo contrario: una respuesta falsa de `urlopen`, sin servidor, para los cortes que un
servidor de verdad no provoca a voluntad (un reinicio de la conexión, un tiempo agotado, Ctrl+C a mitad).
"""

from __future__ import annotations

import http.server
import threading


class ServidorLocal:
    """`with ServidorLocal(contenido) as s: ... s.url ...`: sirve `contenido` en http://127.0.0.1:<puerto>/."""

    def __init__(self, contenido: bytes, nombre: str = "archivo.bin"):
        self.contenido = contenido
        self.admite_range = True  # responde 206 a una petición con Range
        self.cortar_tras = None  # bytes del cuerpo que envía antes de cerrar la conexión (None: no corta)
        self.con_content_length = True  # anuncia el tamaño del cuerpo
        self.peticiones: list[str | None] = []  # la cabecera Range de cada petición (None si no la había)
        servidor = self

        class Manejador(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                rango = self.headers.get("Range")
                servidor.peticiones.append(rango)
                datos = servidor.contenido
                inicio = 0
                if rango and servidor.admite_range:
                    inicio = int(rango.removeprefix("bytes=").removesuffix("-"))
                    if inicio >= len(datos):
                        self.send_response(416)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {inicio}-{len(datos) - 1}/{len(datos)}")
                else:
                    self.send_response(200)
                cuerpo = datos[inicio:]
                if servidor.con_content_length:
                    self.send_header("Content-Length", str(len(cuerpo)))
                else:
                    self.close_connection = True  # sin tamaño, el final lo marca el cierre de la conexión
                self.end_headers()
                if servidor.cortar_tras is not None:
                    cuerpo = cuerpo[: servidor.cortar_tras]
                    self.close_connection = True
                self.wfile.write(cuerpo)
                self.wfile.flush()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Manejador)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{nombre}"
        self._hilo = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._hilo.start()

    def cerrar(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cerrar()
        return False


class RespuestaQueSeCorta:
    """Respuesta falsa de urlopen: anuncia `anunciado` bytes, entrega `primer_bloque` y después lanza `error`.

    `al_leer`, si se da, se llama en cada lectura (por ejemplo, para mirar la carpeta a mitad de la descarga).
    """

    status = 200

    def __init__(self, error, anunciado: int = 1000, primer_bloque: bytes = b"x" * 100, al_leer=None):
        self.error = error
        self.headers = {"Content-Length": str(anunciado)}
        self.primer_bloque = primer_bloque
        self.al_leer = al_leer
        self.lecturas = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n=-1):
        self.lecturas += 1
        if self.al_leer:
            self.al_leer()
        if self.lecturas == 1:
            return self.primer_bloque
        raise self.error
