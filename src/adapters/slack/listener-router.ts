/**
 * Bolt runs every incoming request through the matcher chain of every registered listener, so each
 * extra `app.action(...)` costs every request a little. The router collects the listeners by their
 * exact id and mounts one Bolt listener per kind (commands, actions, views, options, events) that
 * looks the handler up in a map: the same listeners, the same arguments, a fifth of the dispatch.
 */
import type {
  AllMiddlewareArgs,
  App,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  SlackEventMiddlewareArgs,
  SlackOptionsMiddlewareArgs,
  SlackViewMiddlewareArgs,
} from '@slack/bolt';
import { forOperation } from '../../operations/operation-scope.js';
import type { SlackContext } from './context.js';

/**
 * A listener: Bolt's own arguments, and the context of this one operation (its own view of the
 * directory and the store: operations/operation-scope.ts).
 */
type Routed<Args> = (args: Args & AllMiddlewareArgs, ctx: SlackContext) => Promise<void>;
type Listener = Routed<unknown>;
type Kind = 'action' | 'view' | 'options' | 'command' | 'event';

/** What a listener module registers on: one listener per exact id. */
export interface ListenerRegistry {
  action(actionId: string, listener: Routed<SlackActionMiddlewareArgs>): void;
  view(callbackId: string, listener: Routed<SlackViewMiddlewareArgs>): void;
  options(actionId: string, listener: Routed<SlackOptionsMiddlewareArgs<'block_suggestion'>>): void;
  command(name: string, listener: Routed<SlackCommandMiddlewareArgs>): void;
  event<Name extends string>(name: Name, listener: Routed<SlackEventMiddlewareArgs<Name>>): void;
}

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
      (id: unknown, ...listeners: Routed<never>[]) => {
        if (typeof id !== 'string')
          throw new Error(`the listener router takes exact ids; got ${String(id)} for a ${kind} listener`);
        if (listeners.length !== 1) throw new Error(`register one function per ${kind} id (${id})`);
        if (this.routes[kind].has(id)) throw new Error(`two ${kind} listeners for ${id}`);
        this.routes[kind].set(id, listeners[0] as Listener);
      };
    return {
      action: add('action'),
      view: add('view'),
      options: add('options'),
      command: add('command'),
      event: add('event'),
    } as unknown as ListenerRegistry;
  }

  /**
   * Registers one Bolt listener per kind (one per command and event name, which Bolt matches
   * cheaply). Each request is one operation: its listener gets `ctx` with the operation's own view
   * of the dependencies (its directory reads are shared within it, read-scope.ts).
   */
  mount(app: App, ctx: SlackContext): void {
    const dispatch = (routes: Map<string, Listener>, id: string | undefined, args: AllMiddlewareArgs) => {
      const listener = id === undefined ? undefined : routes.get(id);
      return listener ? listener(args, { ...ctx, deps: forOperation(ctx.deps) }) : Promise.resolve();
    };
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
    for (const name of command.keys()) app.command(name, (args) => dispatch(command, name, args));
    for (const name of event.keys()) app.event(name, (args) => dispatch(event, name, args));
  }
}

/** A pattern matching exactly the ids registered, so anything else is left unhandled as before. */
function exactly(routes: Map<string, Listener>): RegExp {
  return new RegExp(`^(?:${[...routes.keys()].map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
}
