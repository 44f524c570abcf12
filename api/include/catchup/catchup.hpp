// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Everything of the engine facade in one include. The actor-level
/// integration (catchup/node.hpp) is separate: it needs CAF.

#include "catchup/engine.hpp"
#include "catchup/error.hpp"
#include "catchup/types.hpp"
#include "catchup/version.hpp"
