/** The catalog of provider templates, by key. */
import type { Template } from "./Template.ts"
import { atlassian } from "./templates/atlassian.ts"
import { dropbox } from "./templates/dropbox.ts"
import { github } from "./templates/github.ts"
import { google } from "./templates/google.ts"
import { hubspot } from "./templates/hubspot.ts"
import { linear } from "./templates/linear.ts"
import { microsoft } from "./templates/microsoft.ts"
import { notion } from "./templates/notion.ts"
import { oauth2 } from "./templates/oauth2.ts"
import { salesforce } from "./templates/salesforce.ts"
import { shopify } from "./templates/shopify.ts"
import { slack, slackUser } from "./templates/slack.ts"
import { genericHmac, googlePubsub, standardWebhooks, stripe } from "./templates/webhookOnly.ts"
import { zoom } from "./templates/zoom.ts"

const templates: ReadonlyArray<Template> = [
  oauth2,
  slack,
  slackUser,
  google,
  github,
  microsoft,
  salesforce,
  hubspot,
  notion,
  atlassian,
  zoom,
  shopify,
  linear,
  dropbox,
  stripe,
  standardWebhooks,
  googlePubsub,
  genericHmac,
]

const byKey = new Map(templates.map((template) => [template.key, template]))

/** Returns the template with this key, or undefined when the catalog has none. */
export const findTemplate = (key: string): Template | undefined => byKey.get(key)

/** Returns every template, in catalog order. */
export const listTemplates = (): ReadonlyArray<Template> => templates
