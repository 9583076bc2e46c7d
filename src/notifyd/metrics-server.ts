/**
 * `--metrics [HOST:]PORT`: an HTTP server answering `GET /metrics` with the Prometheus text
 * exposition of the local executive (core/notify/metrics.ts), read fresh at each scrape.
 * Bound to 127.0.0.1 unless a host is given. Other paths are 404, other methods 405.
 */
import { createServer, type Server } from "node:http";
import { METRICS_CONTENT_TYPE, renderMetrics, type ClusterMetricsSnapshot } from "../core/notify/metrics.js";

/** `PORT`, `HOST:PORT` or `[V6]:PORT`; host defaults to 127.0.0.1 (loopback only). */
export function parseListenAddress(text: string): { host: string; port: number } | { error: string } {
  const m = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d{1,5})$/.exec(text.trim());
  if (m === null) return { error: `invalid listen address '${text}': use PORT, HOST:PORT or [V6]:PORT` };
  const port = Number(m[3]);
  if (port > 65535) return { error: `invalid listen address '${text}': port must be 0..65535` };
  return { host: m[1] ?? m[2] ?? "127.0.0.1", port };
}

export class MetricsServer {
  private readonly server: Server;

  constructor(private readonly snapshot: () => Promise<ClusterMetricsSnapshot>) {
    this.server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      if (path !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found; try /metrics\n");
        return;
      }
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { "content-type": "text/plain", allow: "GET, HEAD" }).end("method not allowed\n");
        return;
      }
      this.snapshot().then(
        (s) => {
          const body = renderMetrics(s);
          res.writeHead(200, { "content-type": METRICS_CONTENT_TYPE, "content-length": Buffer.byteLength(body) });
          res.end(req.method === "HEAD" ? undefined : body);
        },
        (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`cannot read the executive's state: ${(e as Error).message}\n`),
      );
    });
  }

  /** Starts listening; rejects with the socket error (EADDRINUSE, EACCES...). */
  listen(host: string, port: number): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        const a = this.server.address();
        resolve(typeof a === "object" && a !== null ? { host: a.address, port: a.port } : { host, port });
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
