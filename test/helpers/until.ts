/** Poll `f` every `everyMs` until `ok` holds; its last value, or an error naming `what` after `ms`. */
export async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
