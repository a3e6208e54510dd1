import type { Context } from 'aws-lambda';
import type { RequestInfo } from '../app/record-exchange.ts';
import type { HttpEvent } from './handler.ts';

/** Where a request came from, for the audit record: Lambda's request id, else API Gateway's, and the caller's address. */
export function requestInfo(event: HttpEvent, context: Context | undefined): RequestInfo {
  return { request_id: context?.awsRequestId ?? event.requestContext?.requestId, source_ip: event.requestContext?.http?.sourceIp };
}
