import { runSimulation } from '@cloud-copilot/iam-simulate';

/**
 * Whether the independent IAM evaluator (@cloud-copilot/iam-simulate, offline) allows a request
 * under one identity policy whose only restriction is `condition`, with `context` as the request's
 * context keys. fedbroker's conditions are checked against it: they may refuse where this allows,
 * never allow where it refuses.
 */
export async function awsAllows(
  condition: Record<string, Record<string, unknown>>,
  context: Record<string, string | string[]>,
): Promise<boolean> {
  const result = await runSimulation(
    {
      request: {
        principal: 'arn:aws:iam::123456789012:role/fedbroker-session',
        action: 's3:ListBucket',
        resource: { resource: 'arn:aws:s3:::bucket', accountId: '123456789012' },
        contextVariables: context,
      },
      identityPolicies: [
        {
          name: 'p',
          policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*', Condition: condition }] },
        },
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(`simulator refused the input: ${JSON.stringify(result.errors)}`);
  return (result as { result: { analysis: { result: string } } }).result.analysis.result === 'Allowed';
}
