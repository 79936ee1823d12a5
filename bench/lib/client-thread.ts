/**
 * A load generator in a thread of its own (the granularity and soak experiments' RESP
 * clients, so their timings do not depend on the kernel's main thread): requests posted
 * one at a time, each answered by one message `{ ok, value } | { ok: false, error }`.
 *
 * Entry point: `ClientThread.start(file, port, name)`, `request(req)`, `stop()`.
 */
import { Worker } from 'node:worker_threads';

export class ClientThread<Req> {
  private constructor(private readonly w: Worker) {}

  static async start<Req>(file: string, port: number, name: string): Promise<ClientThread<Req>> {
    const w = new Worker(file, { workerData: { port }, name });
    await new Promise<void>((resolve, reject) => {
      w.once('online', resolve);
      w.once('error', reject);
    });
    return new ClientThread<Req>(w);
  }

  request<T>(req: Req): Promise<T> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error) => reject(e);
      this.w.once('error', onError);
      this.w.once('message', (m: { ok: true; value: T } | { ok: false; error: string }) => {
        this.w.off('error', onError);
        if (m.ok) resolve(m.value);
        else reject(new Error(`client: ${m.error}`));
      });
      this.w.postMessage(req);
    });
  }

  async stop(): Promise<void> {
    await this.w.terminate();
  }
}
