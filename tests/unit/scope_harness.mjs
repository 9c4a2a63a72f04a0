// Runs an AppSync Events handler module under node, for tests/unit/test_board_scope.py.
//
// usage: node scope_harness.mjs <handler.js>   (stdin: a JSON list of handler contexts; stdout: one result per context)
// A result is {"allowed": true} when onSubscribe returned, {"allowed": false} when it called util.unauthorized(), and
// {"allowed": false, "error": "..."} when it failed any other way (a runtime error refuses the subscription too, but
// the test treats it as a defect). `@aws-appsync/utils` (provided by the AppSync runtime) is replaced by a stub whose
// util.unauthorized() raises, as the runtime's stops the handler.
import { register } from 'node:module';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const utils = `export const util = {
  unauthorized() { const error = new Error('Unauthorized'); error.name = 'UnauthorizedException'; throw error; },
};`;
const handlerUrl = pathToFileURL(process.argv[2]).href;
// The handler is an ES module in a .js file outside any "type": "module" package: say so rather than let node guess.
const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === '@aws-appsync/utils') {
    return { url: 'data:text/javascript,' + ${JSON.stringify(encodeURIComponent(utils))}, shortCircuit: true };
  }
  return next(specifier, context);
}
export async function load(url, context, next) {
  return next(url, url === ${JSON.stringify(handlerUrl)} ? { ...context, format: 'module' } : context);
}`;
register('data:text/javascript,' + encodeURIComponent(hooks));

const handler = await import(handlerUrl);
const contexts = JSON.parse(readFileSync(0, 'utf8'));
const results = contexts.map((ctx) => {
  try {
    handler.onSubscribe(ctx);
    return { allowed: true };
  } catch (error) {
    if (error.name === 'UnauthorizedException') {
      return { allowed: false };
    }
    return { allowed: false, error: String(error) };
  }
});
process.stdout.write(JSON.stringify(results));
