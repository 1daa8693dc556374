/* SPDX-License-Identifier: Apache-2.0 */
/* The registry credentials Kaniko has built in beyond config.json: Amazon ECR (ecr_creds.h),
 * Google's registries (gcr_creds.h) and Azure Container Registry (acr_creds.h), one provider for
 * registry/creds.h. */
#pragma once

struct creds;
struct lerr;

/* Tries each cloud's provider in turn (each knows its own hosts). */
int cloud_creds_provider(const char *domain, struct creds **ret, struct lerr **err);

/* Registers cloud_creds_provider with creds_set_provider(). At start-up, before threads. */
void cloud_creds_register(void);
