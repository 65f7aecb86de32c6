// Module hooks for skip-rpc-validation.mjs: rewrites dist/transport/codec.js as it loads.
const target = '/dist/transport/codec.js';
const checked = 'checkRpcBatch(unpacked.value)';
const unchecked = '({ ok: true, value: unpacked.value })';

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!url.endsWith(target)) return result;
  const source = String(result.source);
  // Fail loudly if the code moved: a plant that silently plants nothing would prove nothing.
  if (!source.includes(checked)) throw new Error(`planted bug: "${checked}" not found in ${url}`);
  return { ...result, source: source.replace(checked, unchecked) };
}
