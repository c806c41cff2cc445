// Peers for bench/tokenizer_bench.py, measured exactly as `ipfs-accelerate
// bench-tokenizer` measures the engine (same documents, same warm-up):
//   rust : Hugging Face `tokenizers` (native Rust through its Node binding). The
//          whole corpus goes through one encodeBatch / decodeBatch call, so the
//          binding's per-call overhead does not count against it; threads come
//          from RAYON_NUM_THREADS, which the caller sets (1 = single-threaded).
//   tfjs : transformers.js (@huggingface/transformers), pure JavaScript, one
//          document per call (it has no native batch path; single-threaded).
// Usage: node tokenizer_peers.mjs rust|tfjs TOKENIZER_DIR DOCS.json
import fs from 'fs';
import { createRequire } from 'module';

const [engine, dir, docsPath] = process.argv.slice(2);
const docs = JSON.parse(fs.readFileSync(docsPath, 'utf8'));
const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d, 'utf8'), 0);
const now = () => Number(process.hrtime.bigint()) / 1e9;
const rate = (s, tokens) => ({ seconds: s, mb_per_s: bytes / 1e6 / s, tokens_per_s: tokens / s });

if (engine === 'rust') {
  const { Tokenizer } = createRequire(import.meta.url)('tokenizers');
  const tok = Tokenizer.fromFile(`${dir}/tokenizer.json`);
  await tok.encodeBatch(docs.slice(0, 100), { addSpecialTokens: true });
  let t0 = now();
  const encs = await tok.encodeBatch(docs, { addSpecialTokens: true });
  const enc = now() - t0;
  const ids = encs.map((e) => e.getIds());
  const tokens = ids.reduce((n, v) => n + v.length, 0);
  t0 = now();
  const texts = await tok.decodeBatch(ids, false);
  const dec = now() - t0;
  console.log(JSON.stringify({
    engine: 'rust-tokenizers', threads: Number(process.env.RAYON_NUM_THREADS || 0), documents: docs.length, bytes, tokens,
    encode: rate(enc, tokens), decode: rate(dec, tokens), decoded_bytes: texts.reduce((n, t) => n + Buffer.byteLength(t), 0),
  }));
} else if (engine === 'tfjs') {
  const { PreTrainedTokenizer } = await import('@huggingface/transformers');
  const tj = JSON.parse(fs.readFileSync(`${dir}/tokenizer.json`, 'utf8'));
  const cfgPath = `${dir}/tokenizer_config.json`;
  const tc = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, 'utf8')) : {};
  const tok = new PreTrainedTokenizer(tj, tc);
  for (const d of docs.slice(0, 100)) tok.encode(d);
  let t0 = now();
  const ids = docs.map((d) => tok.encode(d));
  const enc = now() - t0;
  const tokens = ids.reduce((n, v) => n + v.length, 0);
  t0 = now();
  const texts = ids.map((v) => tok.decode(v));
  const dec = now() - t0;
  console.log(JSON.stringify({
    engine: 'transformers.js', threads: 1, documents: docs.length, bytes, tokens,
    encode: rate(enc, tokens), decode: rate(dec, tokens), decoded_bytes: texts.reduce((n, t) => n + Buffer.byteLength(t), 0),
  }));
} else {
  throw new Error(`unknown engine ${engine} (rust|tfjs)`);
}
