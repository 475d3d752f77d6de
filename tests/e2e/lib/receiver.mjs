// A webhook receiver on a loopback port that verifies every request with the independent `standardwebhooks` package, answers 500 to its first N requests if told to, and records what it got.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

/**
 * Starts a receiver. `failFirst`: how many requests to answer 500 before answering 200.
 * Resolves with { url, received, setSecret(s), stop() }; `received` holds one entry per request:
 * { id, timestamp, signature, body, verified, error, answered }.
 */
export async function startReceiver({ failFirst = 0 } = {}) {
  let secret = null;
  let left = failFirst;
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = {
        "webhook-id": req.headers["webhook-id"],
        "webhook-timestamp": req.headers["webhook-timestamp"],
        "webhook-signature": req.headers["webhook-signature"],
      };
      const entry = { id: headers["webhook-id"], timestamp: headers["webhook-timestamp"], signature: headers["webhook-signature"], body, verified: false, error: null, answered: 0 };
      try {
        if (!secret) throw new Error("no secret set yet");
        entry.payload = new Webhook(secret).verify(body, headers);
        entry.verified = true;
      } catch (e) {
        entry.error = String(e?.message ?? e);
      }
      entry.answered = !entry.verified ? 401 : left > 0 ? 500 : 200;
      if (entry.answered === 500) left -= 1;
      received.push(entry);
      res.writeHead(entry.answered, { "Content-Type": "text/plain" });
      res.end(entry.answered === 200 ? "ok" : entry.answered === 500 ? "receiver says no (test)" : `bad signature: ${entry.error}`);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/hooks/muster`,
    received,
    setSecret: (s) => {
      secret = s;
    },
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}
