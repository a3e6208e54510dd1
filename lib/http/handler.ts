import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { FedbrokerError, MethodNotAllowed } from '../errors.ts';
import { lambdaBase } from '../lambda.ts';
import { describeError, logger } from '../log.ts';
import { json, type HttpResult } from './response.ts';

export type HttpEvent = APIGatewayProxyEventV2;
type Handler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

/** Refuses methods the route does not serve with 405 and `Allow` (RFC 9110 §15.5.6). */
function allowMethods(methods: readonly string[]): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    before: ({ event }) => {
      const method = event.requestContext?.http?.method?.toUpperCase() ?? '';
      if (!methods.includes(method)) throw new MethodNotAllowed(methods);
    },
    after: (request) => {
      // HEAD: same status and headers as GET, no body (RFC 9110 §9.3.2).
      if (request.event.requestContext?.http?.method?.toUpperCase() === 'HEAD' && request.response) {
        request.response = { ...request.response, body: '' };
      }
    },
  };
}

/**
 * Maps every error to HTTP once. A {@link FedbrokerError} becomes its status and RFC 6749 §5.2
 * body; anything else becomes a generic 500 carrying only the request id, with a redacted log line.
 */
function errorMapper(): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: (request) => {
      const error = request.error;
      const requestId = request.context?.awsRequestId ?? request.event.requestContext?.requestId;
      if (error instanceof FedbrokerError && error.status < 500) {
        logger.info('request refused', { code: error.code, status: error.status, requestId });
        request.response = json(error.status, { error: error.oauthError, error_description: error.message }, error.headers());
        return;
      }
      if (error instanceof FedbrokerError) {
        logger.warn('request failed', { code: error.code, status: error.status, requestId, cause: describeError(error.cause) });
        request.response = json(
          error.status,
          { error: error.oauthError, error_description: error.status === 500 ? 'internal error' : error.message, request_id: requestId },
          error.headers(),
        );
        return;
      }
      logger.error('unhandled error', { requestId, error: describeError(error) });
      request.response = json(500, { error: 'server_error', error_description: 'internal error', request_id: requestId });
    },
  };
}

/**
 * Composes a route handler on the base every function shares (lib/lambda.ts: the Lambda context
 * on every log line, one flush of the buffered metrics per invocation): method guard and error
 * mapping. Header names need no normalising: API Gateway sends them lower-cased in payload
 * format 2.0 (HTTP API developer guide, "Payload format structure"), and so does lib/local/http-api.ts.
 */
export function httpHandler(fn: Handler, options: { methods: readonly string[] }) {
  return lambdaBase<HttpEvent, HttpResult>().use(errorMapper()).use(allowMethods(options.methods)).handler(fn);
}
