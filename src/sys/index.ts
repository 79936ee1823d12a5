/**
 * The server library every component links: `defineServer` and its helpers, the
 * schema builders for protocols, and the ABI types.
 */
export { defineServer, ok, err, DEFERRED, withAfter } from './server.js';
export type { Ctx, Handler, HandlerResult, ReplyToken, ServerDef, SendOptions } from './server.js';
export { t, validate } from './schema.js';
export type { Infer, MessagesOf, Protocol, Schema } from './schema.js';
export type { Address, Endpoint, EndpointInfo, ErrCode, Header, Message, Result } from '../kernel/abi.js';
