/**
 * Bolt runs every incoming request through the matcher chain of every registered listener, so each
 * extra `app.action(...)` costs every request a little. The router collects the listeners by their
 * exact id and mounts one Bolt listener per kind (commands, actions, views, options, events) that
 * looks the handler up in a map: the same listeners, the same arguments, a fifth of the dispatch.
 */
import type { App } from '@slack/bolt';
import { withReadScope } from '../../operations/read-scope.js';

// Bolt's listener argument types differ per kind; the router passes Bolt's own arguments through.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (args: any) => Promise<void>;
type Kind = 'action' | 'view' | 'options' | 'command' | 'event';

/** What a listener module may call on the `app` it is given: exact ids only. */
export type ListenerRegistry = Pick<App, 'action' | 'view' | 'options' | 'command' | 'event'>;

export class ListenerRouter {
  private readonly routes: Record<Kind, Map<string, Listener>> = {
    action: new Map(),
    view: new Map(),
    options: new Map(),
    command: new Map(),
    event: new Map(),
  };

  /** The object listener modules register on; it accepts string ids only. */
  registry(): ListenerRegistry {
    const add =
      (kind: Kind) =>
      (id: unknown, ...listeners: Listener[]) => {
        if (typeof id !== 'string')
          throw new Error(`the listener router takes exact ids; got ${String(id)} for a ${kind} listener`);
        if (listeners.length !== 1) throw new Error(`register one function per ${kind} id (${id})`);
        if (this.routes[kind].has(id)) throw new Error(`two ${kind} listeners for ${id}`);
        this.routes[kind].set(id, listeners[0]!);
      };
    return {
      action: add('action'),
      view: add('view'),
      options: add('options'),
      command: add('command'),
      event: add('event'),
    } as unknown as ListenerRegistry;
  }

  /** Registers one Bolt listener per kind (one per command and event name, which Bolt matches cheaply). */
  mount(app: App): void {
    const { action, view, options, command, event } = this.routes;
    if (action.size)
      app.action(exactly(action), (args) =>
        dispatch(action, args.payload && (args.payload as { action_id?: string }).action_id, args),
      );
    if (view.size) app.view(exactly(view), (args) => dispatch(view, args.view.callback_id, args));
    if (options.size)
      app.options(exactly(options), (args) =>
        dispatch(options, (args.payload as { action_id?: string }).action_id, args),
      );
    // Each request is one operation: its directory reads are shared (read-scope.ts).
    for (const [name, listener] of command) app.command(name, (args) => withReadScope(() => listener(args)));
    for (const [name, listener] of event) app.event(name, (args) => withReadScope(() => listener(args)));
  }
}

/** A pattern matching exactly the ids registered, so anything else is left unhandled as before. */
function exactly(routes: Map<string, Listener>): RegExp {
  return new RegExp(`^(?:${[...routes.keys()].map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
}

async function dispatch(routes: Map<string, Listener>, id: string | undefined, args: unknown): Promise<void> {
  const listener = id === undefined ? undefined : routes.get(id);
  if (listener) await withReadScope(() => listener(args));
}
