// Test only: `node --import` this file to plant a bug in the built node, so the fuzzer can show it
// catches one. Internal RPC bodies are then used as decoded, without the schema check (the code
// as it was before issue 10). Nothing in src/ knows about it.
import { register } from 'node:module';

register(new URL('./skip-rpc-validation-hooks.mjs', import.meta.url));
