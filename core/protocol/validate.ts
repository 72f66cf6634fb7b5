// The one validator for client→server messages: type known, size within limits, shape right.
import { CLIENT_MESSAGES, CLIENT_MESSAGE_TYPES, type ClientMessage, type ClientMessageType } from "./messages.ts";
import { DEFAULT_LIMITS, type ProtocolLimits } from "./limits.ts";
import { payloadBytesAtMost } from "./size.ts";
import { didYouMean } from "../scene/suggest.ts";

export type ParseResult = ({ ok: true } & ClientMessage) | { ok: false; reason: string };

export function isClientMessageType(type: unknown): type is ClientMessageType {
  return typeof type === "string" && Object.prototype.hasOwnProperty.call(CLIENT_MESSAGES, type);
}

/**
 * Validates one message as received (type and decoded payload). Never throws; on failure the
 * reason names what is wrong, e.g. `move.forward: expected a number in [-1, 1], got NaN`.
 * Payload size limits: `maxViewPayloadBytes` for `npc_view`, `maxPayloadBytes` for the rest.
 */
export function parseClientMessage(
  type: unknown,
  payload: unknown,
  limits: Pick<ProtocolLimits, "maxPayloadBytes" | "maxViewPayloadBytes"> = DEFAULT_LIMITS,
): ParseResult {
  if (!isClientMessageType(type)) {
    const shown = typeof type === "string" ? `"${type.slice(0, 40)}"` : `${typeof type} ${String(type).slice(0, 40)}`;
    const hint = typeof type === "string" ? didYouMean(type, CLIENT_MESSAGE_TYPES) : "";
    return { ok: false, reason: `unknown message type ${shown}${hint} (expected one of ${CLIENT_MESSAGE_TYPES.join(", ")})` };
  }
  const maxPayloadBytes = type === "npc_view" ? limits.maxViewPayloadBytes : limits.maxPayloadBytes;
  const bytes = payloadBytesAtMost(payload, maxPayloadBytes);
  if (bytes > maxPayloadBytes) {
    return { ok: false, reason: `${type}: payload too large (over ${maxPayloadBytes} bytes)` };
  }
  const result = CLIENT_MESSAGES[type].safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue.path.length > 0 ? `${type}.${issue.path.join(".")}` : type;
    return { ok: false, reason: `${path}: ${issue.message}` };
  }
  return { ok: true, type, message: result.data } as ParseResult;
}
