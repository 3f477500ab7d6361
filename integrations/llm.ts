/**
 * A chat model behind one small interface, over the official `openai` SDK: OpenAI itself, or any
 * OpenAI-compatible server through OPENAI_BASE_URL. With no key configured there is no model (null), and
 * callers use their offline path instead of pretending to be an LLM.
 */
import OpenAI from 'openai';
import type { Config } from '../config';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatModel {
  /** What answered, e.g. "openai:gpt-4o-mini" (recorded in audits and shown to users). */
  readonly name: string;
  complete(messages: ChatMessage[], options?: { temperature?: number; maxTokens?: number }): Promise<string>;
}

export interface OpenAiChatOptions {
  apiKey: string;
  /** e.g. https://api.openai.com/v1 or a compatible server's /v1 URL; the SDK's default when absent. */
  baseUrl?: string;
  model: string;
  /** Per-request timeout; the SDK retries twice on connection errors and 429/5xx by default. */
  timeoutMs?: number;
}

export function createOpenAiChatModel(options: OpenAiChatOptions): ChatModel {
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl, timeout: options.timeoutMs ?? 30_000 });
  return {
    name: `openai:${options.model}`,
    async complete(messages, { temperature = 0, maxTokens = 800 } = {}) {
      const completion = await client.chat.completions.create({
        model: options.model,
        messages,
        temperature,
        max_tokens: maxTokens,
      });
      const content = completion.choices[0]?.message?.content;
      if (typeof content !== 'string' || !content.trim()) throw new Error('The model returned an empty answer');
      return content;
    },
  };
}

/** The configured chat model, or null when no OpenAI key is set (offline mode). */
export function chatModelFromConfig(config: Pick<Config, 'openai'>): ChatModel | null {
  if (!config.openai.apiKey) return null;
  return createOpenAiChatModel({
    apiKey: config.openai.apiKey,
    baseUrl: config.openai.baseUrl,
    model: config.openai.chatModel,
  });
}
