/**
 * Defers a CommonJS module that a library requires at its top but uses only on some paths (issue
 * 20: the idle bot's memory). Before the library loads, the module gets an entry in Node's CJS
 * module cache (`require.cache`, where Node's documentation allows adding entries) whose exports
 * load the real module on first use and hand on what it exports; from then on the cache holds the
 * real module. Nothing in node_modules is changed, and a process that loaded the real module first
 * keeps it. Used for Bolt's receivers (adapters/slack/bolt.ts) and the Okta SDK's transport
 * (adapters/okta/okta-client.ts); their loading tests check what is and is not loaded.
 */

export interface FirstUseShape {
  /**
   * The module's exports are called or constructed (`module.exports = function ...`), or must not
   * be looked into as an object as the library loads (`typeof` sees a function).
   */
  callable?: boolean;
  /**
   * Functions the library takes out of the exports as it loads (`const { f } = require(...)`):
   * each is handed a stand-in that loads the module when called.
   */
  functions?: string[];
}

/** Loads `specifier`, as `requireFrom` resolves it, on first use instead of when it is required. */
export function loadOnFirstUse(requireFrom: NodeJS.Require, specifier: string, shape: FirstUseShape = {}): void {
  const path = requireFrom.resolve(specifier);
  const cache = requireFrom.cache;
  if (cache[path]) return;
  let real: object | undefined;
  const load = (): object => {
    if (!real) {
      delete cache[path];
      real = requireFrom(specifier) as object;
    }
    return real;
  };
  const functions = new Map(
    (shape.functions ?? []).map((key) => [
      key,
      function (this: unknown, ...args: unknown[]): unknown {
        return Reflect.apply(Reflect.get(load(), key) as (...a: unknown[]) => unknown, this, args);
      },
    ]),
  );
  // A function target, so that the exports can be called and constructed when the module is one.
  const target = shape.callable ? function () {} : {};
  const exports = new Proxy(target, {
    get: (_target, key) => (typeof key === 'string' && functions.get(key)) || Reflect.get(load(), key),
    has: (_target, key) => Reflect.has(load(), key),
    apply: (_target, thisArg, args: unknown[]) => Reflect.apply(load() as (...a: unknown[]) => unknown, thisArg, args),
    construct: (_target, args: unknown[]) => Reflect.construct(load() as new (...a: unknown[]) => object, args),
  });
  cache[path] = Object.assign(Object.create(null) as NodeJS.Module, {
    id: path,
    path,
    filename: path,
    exports,
    loaded: true,
    children: [],
    paths: [],
    isPreloading: false,
    require: requireFrom,
  });
}
