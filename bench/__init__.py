"""Graph-mode benchmark harness for the TF-Slim ResNet v2 family."""
