package main

import "github.com/spf13/cobra"

func newInitCommand(*app) *cobra.Command      { return &cobra.Command{Use: "init", Hidden: true} }
func newIAMPolicyCommand(*app) *cobra.Command { return &cobra.Command{Use: "iam-policy", Hidden: true} }
func newECSDeployCommand(*app) *cobra.Command { return &cobra.Command{Use: "ecs-deploy", Hidden: true} }
