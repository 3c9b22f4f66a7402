/**
 * @module skill/native-import — Node's own `import()`, for `./load.ts`. A CommonJS file that
 * load.ts requires through `createRequire`, so no tool rewrites this `import()`: vitest runs the
 * files of src/ through its module runner, which turns their `import()` into its own and so would
 * bypass Node's loader, the hooks of `./loader-hooks.js` and the module instances the daemon uses.
 */
/* global module */
module.exports = (url) => import(url);
