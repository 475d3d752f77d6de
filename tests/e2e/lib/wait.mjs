// Polling for the e2e tests: wait until a condition holds, or fail saying what was last seen.

/** Resolves with fn()'s first truthy result, polling every 100 ms; throws after timeoutMs with the last value or error. */
export async function eventually(fn, timeoutMs = 5000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = new Error(`${what}: got ${JSON.stringify(v)}`);
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${last?.message ?? last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
