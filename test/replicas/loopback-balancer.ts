/**
 * A small HTTP load balancer on 127.0.0.1 in front of the replicas, as a production deployment
 * puts one in front of its pods: each request goes to any live replica (round robin), its body
 * passed through byte for byte (Slack's signature covers it). A test may pin a request to replica
 * `i` by posting to `/replica/<i>/slack/events` (the prefix is taken off), to make two requests
 * race on two replicas.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class LoopbackBalancer {
  /** The balancer's HTTP server, while it runs (a bench watches when answers leave it). */
  server: Server | undefined;
  private next = 0;
  /** Requests each replica got, by index. */
  readonly served: number[] = [];

  /** `targets()`: the live replicas' base URLs, by index (undefined for a stopped one). */
  constructor(private readonly targets: () => (string | undefined)[]) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const pinned = /^\/replica\/(\d+)(\/.*)$/.exec(req.url ?? '/');
      const all = this.targets();
      const index = pinned ? Number(pinned[1]) : this.pick(all);
      const target = index === undefined ? undefined : all[index];
      if (index === undefined || !target) {
        res.writeHead(502).end('no live replica');
        return;
      }
      this.served[index] = (this.served[index] ?? 0) + 1;
      const url = new URL(pinned ? pinned[2]! : (req.url ?? '/'), target);
      const upstream = request(url, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private pick(all: (string | undefined)[]): number | undefined {
    for (let tries = 0; tries < all.length; tries++) {
      const index = this.next++ % all.length;
      if (all[index]) return index;
    }
    return undefined;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
